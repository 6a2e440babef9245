/**
 * Lambda handler of the `Custom::WarehouseSchema` resource (behind aws-cdk-lib's custom-resource
 * Provider, which reports the outcome to CloudFormation):
 *  - Create/Update: reads the writer's secret, then through the Redshift Data API (as the admin
 *    secret's user) applies the pending migrations and creates or updates the writer user and
 *    its grants (runner.ts). A new or changed migration changes the resource's properties, so
 *    CloudFormation sends an Update and it is applied at that deploy.
 *  - Delete: changes nothing. The warehouse is retained and its tables hold the analytics data.
 * Bundled by bundle.mjs; the AWS SDK v3 comes from the Lambda runtime.
 */
import { readCredentialsSecret } from '../credentials-secret';
import { DataApiExecutor } from './data-api';
import { MigrationError, parseMigrationProperties } from './migrations';
import { reconcileWarehouse } from './runner';

interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
}

interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

interface CustomResourceResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** Time kept back from the Lambda's budget to cancel a statement and report the failure. */
const DEADLINE_MARGIN_MS = 30_000;

function stringProperty(props: Record<string, unknown>, field: string): string {
  const value = props[field];
  if (typeof value !== 'string' || value === '') throw new MigrationError(`${field} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function identifierProperty(props: Record<string, unknown>, field: string): string {
  const value = stringProperty(props, field);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) throw new MigrationError(`${field} must be a lower-case SQL identifier, got ${JSON.stringify(value)}`);
  return value;
}

/** The writer's password from its secret; the secret's username must be the one the stack names. */
async function writerPassword(secretArn: string, username: string): Promise<string> {
  const { username: secretUser, password } = await readCredentialsSecret(secretArn);
  if (typeof password !== 'string' || password === '') throw new Error(`secret ${secretArn} lacks "password"`);
  if (secretUser !== undefined && secretUser !== username) {
    throw new Error(`secret ${secretArn} is for user ${JSON.stringify(secretUser)} but WriterUsername is ${JSON.stringify(username)}`);
  }
  return password;
}

export async function handler(event: CustomResourceEvent, context?: LambdaContext): Promise<CustomResourceResponse> {
  const props = event.ResourceProperties;
  const workgroupName = stringProperty(props, 'WorkgroupName');
  const database = identifierProperty(props, 'Database');
  const schema = identifierProperty(props, 'SchemaName');
  // One physical id per schema: a new workgroup or schema is a new resource; the old one's Delete is a no-op.
  const physicalId = `${workgroupName}/${database}/${schema}`;
  if (event.RequestType === 'Delete') {
    console.log(`delete of ${event.PhysicalResourceId}: the schema, its tables and the writer user are kept (the warehouse is retained)`);
    return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };
  }
  const adminSecretArn = stringProperty(props, 'AdminSecretArn');
  const writerSecretArn = stringProperty(props, 'WriterSecretArn');
  const writerUsername = identifierProperty(props, 'WriterUsername');
  const migrations = parseMigrationProperties(props.Migrations);

  const password = await writerPassword(writerSecretArn, writerUsername);
  const budget = context?.getRemainingTimeInMillis() ?? 300_000;
  const log = (line: string) => console.log(line);
  const executor = new DataApiExecutor(
    { workgroupName, database, secretArn: adminSecretArn },
    { deadline: Date.now() + Math.max(budget - DEADLINE_MARGIN_MS, 10_000), log },
  );
  const result = await reconcileWarehouse(executor, { schema, migrations, writer: { username: writerUsername, password }, log });
  console.log(JSON.stringify({ event: event.RequestType, workgroupName, database, schema, applied: result.applied, writer: result.writer }));
  return {
    PhysicalResourceId: physicalId,
    Data: {
      Applied: result.applied.join(','),
      LatestVersion: migrations.at(-1)?.version ?? '',
      WriterUsername: writerUsername,
    },
  };
}
