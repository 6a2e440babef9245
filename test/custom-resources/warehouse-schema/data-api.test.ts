/**
 * The Data API executor (lib/custom-resources/warehouse-schema/data-api.ts) against moto's redshift-data, a real
 * protocol peer on loopback, as far as moto goes: it accepts ExecuteStatement, keeps every
 * statement STARTED until cancelled (CancelStatement -> ABORTED) and answers GetStatementResult
 * with a fixed three-row result. So the polling, the deadline's cancel, the ABORTED error and the
 * result decoding run against the real SDK and wire protocol; moto serves no
 * BatchExecuteStatement and never reports FINISHED or FAILED, so the reading of those answers
 * is tested on DescribeStatement responses shaped as the API documents them.
 *
 * moto writes CreatedAt/UpdatedAt as ISO strings where the Data API's JSON protocol has epoch
 * seconds, which the SDK refuses to parse; `acceptMotoTimestamps` rewrites those two fields in
 * moto's raw answers before the SDK reads them (and touches nothing else).
 */
import type { DeserializeHandler, DeserializeHandlerArguments } from '@smithy/types';
import { CancelStatementCommand, DescribeStatementCommand, ExecuteStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-redshift-data';
import { DataApiExecutor, readStatementResult, statementFinished, STATEMENT_NAME } from '../../../lib/custom-resources/warehouse-schema/data-api';
import { SqlExecutionError } from '../../../lib/custom-resources/warehouse-schema/runner';
import { motoForThisFile } from '../../helpers/moto';

const moto = motoForThisFile();
const target = {
  workgroupName: 'platform-staging-analytics',
  database: 'analytics',
  secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-AbCdEf',
};

function acceptMotoTimestamps(c: RedshiftDataClient): RedshiftDataClient {
  c.middlewareStack.addRelativeTo((next: DeserializeHandler<ServiceInputTypes, ServiceOutputTypes>) => async (args: DeserializeHandlerArguments<ServiceInputTypes>) => {
    const out = await next(args);
    const response = out.response as { body: AsyncIterable<Uint8Array> };
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(Buffer.from(chunk));
    const text = Buffer.concat(chunks).toString('utf8')
      .replace(/"(CreatedAt|UpdatedAt)":\s*"([^"]+)"/g, (_, key: string, iso: string) => `"${key}": ${Date.parse(iso) / 1000}`);
    (response as { body: unknown }).body = Buffer.from(text);
    return out;
  }, { relation: 'after', toMiddleware: 'deserializerMiddleware', name: 'acceptMotoTimestamps' });
  return c;
}
const client = () => acceptMotoTimestamps(new RedshiftDataClient({ region: 'us-east-1', endpoint: moto().endpoint }));

describe('DataApiExecutor against moto', () => {
  it('polls a statement that never ends until the deadline, then cancels it and fails naming it', async () => {
    const c = client();
    const lines: string[] = [];
    const executor = new DataApiExecutor(target, { client: c, deadline: Date.now() + 300, pollIntervalMs: 20, maxPollIntervalMs: 40, log: (l) => lines.push(l) });
    const error = await executor.query('SELECT version FROM analytics.schema_migrations').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SqlExecutionError);
    const id = /^statement (\S+) submitted to workgroup platform-staging-analytics$/.exec(lines[0])![1];
    expect((error as Error).message).toBe(`Redshift statement ${id} did not finish before the deadline (last status STARTED); cancelled`);
    // The cancel reached the service: the statement is ABORTED there now.
    expect((await c.send(new DescribeStatementCommand({ Id: id }))).Status).toBe('ABORTED');
  });

  it('surfaces a statement aborted while it waits, with its id', async () => {
    const c = client();
    let submitted: (id: string) => void = () => undefined;
    const id = new Promise<string>((resolve) => { submitted = resolve; });
    const executor = new DataApiExecutor(target, {
      client: c, deadline: Date.now() + 60_000, pollIntervalMs: 20, maxPollIntervalMs: 40,
      log: (line) => submitted(line.split(' ')[1]),
    });
    const run = executor.query('SELECT 1');
    // Fails fast if the statement was never submitted (rather than waiting for an id forever).
    const submittedId = await Promise.race([id, run.then(() => 'finished', (e: Error) => `failed: ${e.message}`)]);
    expect(submittedId).toMatch(/^[0-9a-f-]{36}$/);
    // Cancelled by someone else (an operator, or the workgroup), as CancelStatement does.
    await c.send(new CancelStatementCommand({ Id: submittedId }));
    await expect(run).rejects.toThrow(`Redshift statement ${submittedId} was aborted (cancelled)`);
  });

  it('sends the statement to the workgroup with the database and the admin secret', async () => {
    const c = client();
    const lines: string[] = [];
    const executor = new DataApiExecutor(target, { client: c, deadline: Date.now(), pollIntervalMs: 1, log: (l) => lines.push(l) });
    await expect(executor.query('SELECT 42')).rejects.toThrow('did not finish before the deadline');
    const described = await c.send(new DescribeStatementCommand({ Id: lines[0].split(' ')[1] }));
    expect(described).toMatchObject({ Database: 'analytics', SecretArn: target.secretArn, QueryString: 'SELECT 42' });
  });

  it('decodes a result into rows keyed by column name', async () => {
    const c = client();
    const { Id } = await c.send(new ExecuteStatementCommand({ WorkgroupName: target.workgroupName, Database: 'analytics', SecretArn: target.secretArn, Sql: 'SELECT 1', StatementName: STATEMENT_NAME }));
    expect(await readStatementResult(c, Id!)).toEqual([
      { Number: 10, Street: 'Alpha st', City: 'Vancouver' },
      { Number: 50, Street: 'Beta st', City: 'Toronto' },
      { Number: 100, Street: 'Gamma av', City: 'Seattle' },
    ]);
  });
});

describe('statementFinished (DescribeStatement answers as documented)', () => {
  it('waits while SUBMITTED, PICKED or STARTED and is done when FINISHED', () => {
    for (const Status of ['SUBMITTED', 'PICKED', 'STARTED'] as const) expect(statementFinished({ Id: 'a', Status })).toBe(false);
    expect(statementFinished({ Id: 'a', Status: 'FINISHED' })).toBe(true);
  });

  it('surfaces the error text of a failed statement', () => {
    expect(() => statementFinished({ Id: 'a', Status: 'FAILED', Error: 'ERROR: relation "analytics.x" does not exist' }))
      .toThrow('Redshift statement a failed: ERROR: relation "analytics.x" does not exist');
  });

  it('names the failed statement of a batch and keeps its index', () => {
    const description = {
      Id: 'b', Status: 'FAILED' as const, Error: 'batch failed',
      SubStatements: [
        { Id: 'b:1', Status: 'FINISHED' as const },
        { Id: 'b:2', Status: 'FAILED' as const, Error: 'ERROR: permission denied for schema analytics' },
        { Id: 'b:3', Status: 'ABORTED' as const },
      ],
    };
    let error: unknown;
    try {
      statementFinished(description);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SqlExecutionError);
    expect((error as SqlExecutionError).message).toBe('Redshift statement b failed (statement 2 of 3): ERROR: permission denied for schema analytics');
    expect((error as SqlExecutionError).statementIndex).toBe(1);
  });

  it('reports ABORTED and unknown states', () => {
    expect(() => statementFinished({ Id: 'c', Status: 'ABORTED' })).toThrow('Redshift statement c was aborted (cancelled)');
    expect(() => statementFinished({ Id: 'd', Status: 'ALL' })).toThrow('Redshift statement d has unexpected status ALL');
  });
});
