import { loadPlatformSpec } from '../../lib/spec';
import type { PlatformSpec } from '../../lib/spec';
import { problemsAfter } from '../helpers/spec';
import type { Mutable } from '../helpers/spec';

const spec = loadPlatformSpec();

describe('the analytics path of the spec', () => {
  it('reads the order and payment event topics on a current Managed Flink runtime', () => {
    expect(spec.analytics.flink.topics).toEqual(['order-events', 'payment-events']);
    expect(spec.analytics.flink.runtime).toBe('FLINK-2_2');
  });

  it('remembers event ids for at least the topics\' retention, so a full replay is de-duplicated', () => {
    const retention = Math.max(...spec.dataTier.kafka.topics.map((t) => t.retentionHours));
    expect(spec.analytics.flink.dedupRetentionHours).toBeGreaterThanOrEqual(retention);
  });
});

describe('analytics validation names the field and the value', () => {
  it.each<[string, (d: Mutable<PlatformSpec>) => void, string]>([
    ['topic that is not in the data tier', (d) => { d.analytics.flink.topics[1] = 'refund-events'; },
      'analytics.flink.topics.1 = "refund-events": is not a topic of dataTier.kafka.topics'],
    ['de-duplication shorter than the topics\' retention', (d) => { d.analytics.flink.dedupRetentionHours = 24; },
      'analytics.flink.dedupRetentionHours = 24: must be >= the longest retention of its topics (168 h)'],
    ['checkpoint pause as long as the interval', (d) => { d.analytics.flink.minPauseBetweenCheckpointsSeconds = 60; },
      'analytics.flink.minPauseBetweenCheckpointsSeconds = 60: must be < checkpointIntervalSeconds (60)'],
    ['runtime name typo', (d) => { d.analytics.flink.runtime = 'flink-2.2'; },
      'analytics.flink.runtime = "flink-2.2": must be a Managed Flink runtime such as FLINK-2_2'],
    ['job writing as the admin', (d) => { d.analytics.warehouse.writerUsername = d.analytics.warehouse.adminUsername; },
      'analytics.warehouse.writerUsername = "warehouse_admin": must differ from adminUsername'],
    ['warehouse capacity that is not a multiple of 8 RPUs', (d) => { d.environments.staging.analytics.warehouse.baseCapacityRpu = 12; },
      'environments.staging.analytics.warehouse.baseCapacityRpu = 12: must be a multiple of 8 RPUs'],
    ['warehouse ceiling below its base', (d) => { d.environments.production.analytics.warehouse.maxCapacityRpu = 16; },
      'environments.production.analytics.warehouse.maxCapacityRpu = 16: must be >= baseCapacityRpu (32)'],
    ['more slots per KPU than Managed Flink allows', (d) => { d.environments.production.analytics.flink.parallelismPerKpu = 9; },
      'environments.production.analytics.flink.parallelismPerKpu = 9: must be <= 8'],
  ])('rejects a %s', (_, edit, expected) => {
    expect(problemsAfter(edit)).toContain(expected);
  });
});
