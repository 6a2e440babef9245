// The add-ons' charts as the local cluster writes out their objects: no chart repository can be
// reached, so each module follows one release of its chart's templates.
import type { HelmChartSpec, PlatformSpec } from '../../lib/spec';
import { HarnessError } from '../local-stack/process';

export interface PinnedChart {
  /** The chart's name and the release whose templates the module follows. */
  readonly chart: string;
  readonly version: string;
  /** The module of scripts/local-cluster/ that writes the objects out. */
  readonly module: string;
}

/**
 * `clusterAddons.<key>` when it is the chart release `pinned` follows; another release may render
 * other objects, so it is refused, naming the field.
 */
export function pinnedAddonChart(spec: PlatformSpec, key: keyof PlatformSpec['clusterAddons'], pinned: PinnedChart): HelmChartSpec {
  const chart = spec.clusterAddons[key];
  if (chart.chart !== pinned.chart || chart.version !== pinned.version) {
    throw new HarnessError(
      `clusterAddons.${key} is ${chart.chart} ${chart.version}; scripts/local-cluster/${pinned.module} renders the objects of ${pinned.chart} ${pinned.version}: bring them in line with the new chart first`,
    );
  }
  return chart;
}
