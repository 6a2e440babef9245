/**
 * The `Custom::WarehouseSchema` handler's own decisions (lib/custom-resources/warehouse-schema/handler.ts): Delete
 * keeps everything and calls nothing; bad properties fail before any call, naming the field; the
 * writer's secret (read from moto's Secrets Manager through the real SDK) must be JSON for the
 * user the stack names. What it does next runs through runner.ts, tested on PostgreSQL.
 */
import * as path from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handler } from '../../../lib/custom-resources/warehouse-schema/handler';
import { readMigrations, toMigrationProperty } from '../../../lib/custom-resources/warehouse-schema/migrations';
import { motoForThisFile } from '../../helpers/moto';

const moto = motoForThisFile();
const migrations = readMigrations(path.join(__dirname, 'fixtures', 'valid')).map(toMigrationProperty);
const base = {
  WorkgroupName: 'platform-staging-analytics',
  Database: 'analytics',
  SchemaName: 'analytics',
  AdminSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-AbCdEf',
  WriterUsername: 'analytics_writer',
  Migrations: migrations,
};

let savedRegion: string | undefined;
beforeAll(() => {
  savedRegion = process.env.AWS_REGION;
  process.env.AWS_REGION = 'us-east-1';
});
afterAll(() => {
  if (savedRegion === undefined) delete process.env.AWS_REGION;
  else process.env.AWS_REGION = savedRegion;
});

async function secret(name: string, value: string): Promise<string> {
  const sm = new SecretsManagerClient({ region: 'us-east-1', endpoint: moto().endpoint });
  return (await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN!;
}

describe('handler', () => {
  it('keeps everything on Delete: answers with the same physical id and makes no call', async () => {
    // Not even the secret exists: any AWS call would fail this test.
    await expect(handler({
      RequestType: 'Delete', PhysicalResourceId: 'platform-staging-analytics/analytics/analytics',
      ResourceProperties: { ...base, WriterSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf' },
    })).resolves.toEqual({ PhysicalResourceId: 'platform-staging-analytics/analytics/analytics' });
  });

  it('rejects bad properties before any call, naming the field', async () => {
    const writerSecret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf';
    await expect(handler({ RequestType: 'Create', ResourceProperties: { ...base, WorkgroupName: '' } })).rejects.toThrow('WorkgroupName must be a non-empty string');
    await expect(handler({ RequestType: 'Create', ResourceProperties: { ...base, SchemaName: 'Analytics' } })).rejects.toThrow('SchemaName must be a lower-case SQL identifier');
    await expect(handler({ RequestType: 'Create', ResourceProperties: { ...base } })).rejects.toThrow('WriterSecretArn must be a non-empty string');
    await expect(handler({ RequestType: 'Update', ResourceProperties: { ...base, WriterSecretArn: writerSecret, Migrations: [{ ...migrations[0], Checksum: 'x' }] } }))
      .rejects.toThrow('Migrations[0].Checksum must be a sha256 in hex');
  });

  it('refuses a writer secret that is not JSON, or that is for another user, naming the secret', async () => {
    const notJson = await secret('writer-not-json', 'just-a-password');
    await expect(handler({ RequestType: 'Create', ResourceProperties: { ...base, WriterSecretArn: notJson } }))
      .rejects.toThrow(`secret ${notJson} is not JSON {"username","password"}`);
    const other = await secret('writer-other-user', JSON.stringify({ username: 'someone_else', password: 'Pass-word-1' }));
    await expect(handler({ RequestType: 'Update', ResourceProperties: { ...base, WriterSecretArn: other } }))
      .rejects.toThrow(`secret ${other} is for user "someone_else" but WriterUsername is "analytics_writer"`);
    const noPassword = await secret('writer-no-password', JSON.stringify({ username: 'analytics_writer' }));
    await expect(handler({ RequestType: 'Create', ResourceProperties: { ...base, WriterSecretArn: noPassword } }))
      .rejects.toThrow(`secret ${noPassword} lacks "password"`);
  });
});
