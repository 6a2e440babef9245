/**
 * The runner's executor on the Amazon Redshift Data API (Redshift Serverless): statements go to
 * the workgroup with the admin secret (the Data API reads it with the caller's permissions), a
 * transaction is one BatchExecuteStatement (the Data API runs a batch as one transaction), and
 * every call is polled with DescribeStatement until FINISHED, FAILED or ABORTED, or until the
 * deadline, when the statement is cancelled. Errors carry Redshift's error text and, for a batch,
 * the index of the failing statement.
 */
import {
  BatchExecuteStatementCommand, CancelStatementCommand, DescribeStatementCommand, ExecuteStatementCommand,
  GetStatementResultCommand, RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import type { DescribeStatementResponse, Field } from '@aws-sdk/client-redshift-data';
import type { SqlExecutor, SqlValue } from './runner';
import { SqlExecutionError } from './runner';

export interface DataApiTarget {
  readonly workgroupName: string;
  readonly database: string;
  /** The admin user's secret ({"username","password"}). */
  readonly secretArn: string;
}

export interface DataApiOptions {
  /** Epoch milliseconds after which a running statement is cancelled and the call fails. */
  readonly deadline: number;
  readonly client?: RedshiftDataClient;
  /** First wait between DescribeStatement calls; doubles up to `maxPollIntervalMs`. */
  readonly pollIntervalMs?: number;
  readonly maxPollIntervalMs?: number;
  /** Receives one line per submitted statement (its id); never SQL text. */
  readonly log?: (line: string) => void;
}

/** Names the statements in the Data API's history (ListStatements), so an operator finds them. */
export const STATEMENT_NAME = 'platform-warehouse-schema';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads a DescribeStatement answer: `true` once FINISHED, `false` while SUBMITTED, PICKED or
 * STARTED; throws a SqlExecutionError with Redshift's error text when FAILED or ABORTED (for a
 * batch, `statementIndex` is the first failed sub-statement).
 */
export function statementFinished(description: DescribeStatementResponse): boolean {
  const id = description.Id ?? '(no id)';
  switch (description.Status) {
    case 'FINISHED':
      return true;
    case 'FAILED': {
      const subs = description.SubStatements ?? [];
      const index = subs.findIndex((s) => s.Status === 'FAILED');
      const text = (index >= 0 ? subs[index].Error : undefined) ?? description.Error ?? 'no error text';
      const where = index >= 0 && subs.length > 1 ? ` (statement ${index + 1} of ${subs.length})` : '';
      throw new SqlExecutionError(`Redshift statement ${id} failed${where}: ${text}`, index >= 0 ? index : undefined);
    }
    case 'ABORTED':
      throw new SqlExecutionError(`Redshift statement ${id} was aborted${description.Error ? `: ${description.Error}` : ' (cancelled)'}`);
    case 'SUBMITTED':
    case 'PICKED':
    case 'STARTED':
    case undefined:
      return false;
    default:
      throw new SqlExecutionError(`Redshift statement ${id} has unexpected status ${String(description.Status)}`);
  }
}

function fieldValue(field: Field): SqlValue {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue).toString('base64');
  return null;
}

/** All rows of a finished statement's result, following NextToken; rows keyed by column name. */
export async function readStatementResult(client: RedshiftDataClient, id: string): Promise<Record<string, SqlValue>[]> {
  const rows: Record<string, SqlValue>[] = [];
  let nextToken: string | undefined;
  let columns: string[] | undefined;
  do {
    const page = await client.send(new GetStatementResultCommand({ Id: id, NextToken: nextToken }));
    columns ??= (page.ColumnMetadata ?? []).map((c, i) => c.name ?? c.label ?? `column${i + 1}`);
    for (const record of page.Records ?? []) {
      rows.push(Object.fromEntries(record.map((field, i) => [columns![i] ?? `column${i + 1}`, fieldValue(field)])));
    }
    nextToken = page.NextToken ?? undefined;
  } while (nextToken);
  return rows;
}

export class DataApiExecutor implements SqlExecutor {
  readonly engine = 'redshift' as const;
  private readonly client: RedshiftDataClient;

  constructor(private readonly target: DataApiTarget, private readonly options: DataApiOptions) {
    this.client = options.client ?? new RedshiftDataClient({});
  }

  async query(sql: string): Promise<Record<string, SqlValue>[]> {
    const { Id } = await this.client.send(new ExecuteStatementCommand({
      WorkgroupName: this.target.workgroupName,
      Database: this.target.database,
      SecretArn: this.target.secretArn,
      StatementName: STATEMENT_NAME,
      Sql: sql,
    }));
    const description = await this.waitFor(Id);
    return description.HasResultSet ? readStatementResult(this.client, Id!) : [];
  }

  async transaction(statements: readonly string[]): Promise<void> {
    if (statements.length === 0) return;
    const { Id } = await this.client.send(new BatchExecuteStatementCommand({
      WorkgroupName: this.target.workgroupName,
      Database: this.target.database,
      SecretArn: this.target.secretArn,
      StatementName: STATEMENT_NAME,
      Sqls: [...statements],
    }));
    await this.waitFor(Id);
  }

  /** Polls until the statement ends; past the deadline, cancels it and fails. */
  async waitFor(id: string | undefined): Promise<DescribeStatementResponse> {
    if (!id) throw new SqlExecutionError('the Data API returned no statement id');
    this.options.log?.(`statement ${id} submitted to workgroup ${this.target.workgroupName}`);
    let interval = this.options.pollIntervalMs ?? 250;
    const maxInterval = this.options.maxPollIntervalMs ?? 2000;
    for (;;) {
      const description = await this.client.send(new DescribeStatementCommand({ Id: id }));
      if (statementFinished(description)) return description;
      const left = this.options.deadline - Date.now();
      if (left <= 0) {
        let cancelled = 'cancelled';
        try {
          await this.client.send(new CancelStatementCommand({ Id: id }));
        } catch (error) {
          cancelled = `cancel failed: ${(error as Error).message}`;
        }
        throw new SqlExecutionError(`Redshift statement ${id} did not finish before the deadline (last status ${description.Status ?? 'unknown'}); ${cancelled}`);
      }
      await sleep(Math.min(interval, left));
      interval = Math.min(interval * 2, maxInterval);
    }
  }
}
