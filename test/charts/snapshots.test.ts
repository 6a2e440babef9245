import { ENVIRONMENT_NAMES } from '../../lib/spec';
import { renderEnvironment } from './helpers';

// One snapshot per chart and environment: a reviewer sees every change to a manifest here and in dist/.
describe.each(ENVIRONMENT_NAMES)('%s', (env) => {
  const charts = renderEnvironment(env);
  it.each(Object.keys(charts))('%s chart matches the snapshot', (chart) => {
    expect(charts[chart]).toMatchSnapshot();
  });
});
