/**
 * The data tier as the synthesized templates describe it, found by the physical names of
 * lib/spec/names.ts (the same names the online commands address): for the --offline plans.
 */
import type { EnvironmentSpec, ResourceNames } from '../../lib/spec';
import type { OpsAssembly, TemplateResource } from './assembly';

const DB_INSTANCE = 'AWS::RDS::DBInstance';

/** The writer, and the templates' read replicas of it (instances whose source references the writer). */
export function templateReplicas(assembly: OpsAssembly, environment: EnvironmentSpec, names: ResourceNames): {
  writer: TemplateResource; replicas: TemplateResource[];
} {
  const writer = assembly.named(environment.name, DB_INSTANCE, 'DBInstanceIdentifier', names.dbInstance);
  const reference = JSON.stringify({ Ref: writer.logicalId });
  const replicas = assembly.resources(environment.name, DB_INSTANCE)
    .filter((r) => r.properties.SourceDBInstanceIdentifier !== undefined && JSON.stringify(r.properties.SourceDBInstanceIdentifier).includes(reference));
  return { writer, replicas };
}
