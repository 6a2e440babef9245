import { CHART_ENVIRONMENT_NAMES, renderEnvironment } from './helpers';

// One snapshot per chart and environment (the local one too): a reviewer sees every change to a manifest here and in dist/.
describe.each(CHART_ENVIRONMENT_NAMES)('%s', (env) => {
  const charts = renderEnvironment(env);
  it.each(Object.keys(charts))('%s chart matches the snapshot', (chart) => {
    expect(charts[chart]).toMatchSnapshot();
  });
});
