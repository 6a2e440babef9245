/**
 * The deploy-time custom resources keep their logical ids in the app as synthesized (both
 * environments). A moved id makes CloudFormation replace the resource: the functions and the
 * custom resource would be recreated (the handler re-run), and each retained log group orphaned,
 * its successor failing to create under the same name. Refactoring the construct code must leave
 * these ids where they are; changing one is a decision, made here.
 */
import { readAssemblyStacks } from '../../scripts/review/assembly';
import type { AssemblyStack } from '../../scripts/review/assembly';
import { ENVIRONMENT_NAMES } from '../../lib/spec';
import { synthForThisFile } from '../helpers/synth';

const cdkOut = synthForThisFile();

/** `<stack> <logical id>` by what the resource is, found by its name or type (not by its id). */
function customResourceIds(stacks: readonly AssemblyStack[]): Record<string, string> {
  const found: Record<string, string> = {};
  const add = (key: string, where: string) => {
    if (found[key]) throw new Error(`${key} found twice: ${found[key]} and ${where}`);
    found[key] = where;
  };
  for (const stack of stacks) {
    const stackId = stack.displayName.split('/').pop()!;
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      const properties = (resource.Properties ?? {}) as Record<string, unknown>;
      const where = `${stackId} ${logicalId}`;
      if (/^Custom::(KafkaTopics|WarehouseSchema)$/.test(resource.Type)) add(resource.Type, where);
      const fn = resource.Type === 'AWS::Lambda::Function' && typeof properties.FunctionName === 'string'
        ? /-((?:kafka-topics|warehouse-schema)(?:-provider)?)$/.exec(properties.FunctionName) : null;
      if (fn) add(`function ${fn[1]}`, where);
      const logs = resource.Type === 'AWS::Logs::LogGroup' && typeof properties.LogGroupName === 'string'
        ? /^\/aws\/lambda\/.+-((?:kafka-topics|warehouse-schema)(?:-provider)?)$/.exec(properties.LogGroupName) : null;
      if (logs) {
        add(`log group ${logs[1]}`, where);
        expect([resource.DeletionPolicy, resource.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
      }
    }
  }
  return found;
}

describe.each(ENVIRONMENT_NAMES)('%s: the custom resources', (environment) => {
  it('keep the logical ids of their functions, retained log groups and resources', () => {
    const stacks = readAssemblyStacks(cdkOut()).filter((s) => s.environment === environment);
    expect(stacks.length).toBeGreaterThan(0);
    expect(customResourceIds(stacks)).toEqual({
      'Custom::KafkaTopics': 'Messaging Topics025BDD29',
      'function kafka-topics': 'Messaging TopicsHandler363E07A6',
      'log group kafka-topics': 'Messaging TopicsHandlerLogsLogGroup5E0E8F3C',
      'function kafka-topics-provider': 'Messaging TopicsProviderframeworkonEvent7DEE0D0D',
      'log group kafka-topics-provider': 'Messaging TopicsProviderLogsLogGroup959FF3DD',
      'Custom::WarehouseSchema': 'Analytics WarehouseSchemaA505064D',
      'function warehouse-schema': 'Analytics WarehouseSchemaHandler9833FD6A',
      'log group warehouse-schema': 'Analytics WarehouseSchemaHandlerLogsLogGroup987FF114',
      'function warehouse-schema-provider': 'Analytics WarehouseSchemaProviderframeworkonEventB4B7CF7C',
      'log group warehouse-schema-provider': 'Analytics WarehouseSchemaProviderLogsLogGroup10E58CA5',
    });
  });
});
