/**
 * The runner's executor on a real PostgreSQL (node-postgres), for the tests: a transaction is
 * BEGIN, the statements, COMMIT (ROLLBACK on the first failure, which is reported with its
 * index), as the Data API runs a batch on Redshift. Every SQL text it runs is kept in `executed`,
 * so a test can check what reached the database.
 */
import type { Client } from 'pg';
import type { SqlExecutor, SqlValue } from '../../../lib/custom-resources/warehouse-schema/runner';
import { SqlExecutionError } from '../../../lib/custom-resources/warehouse-schema/runner';

export class PgExecutor implements SqlExecutor {
  readonly engine = 'postgresql' as const;
  readonly executed: string[] = [];

  constructor(private readonly client: Client) {}

  async query(sql: string): Promise<Record<string, SqlValue>[]> {
    this.executed.push(sql);
    return (await this.client.query(sql)).rows as Record<string, SqlValue>[];
  }

  async transaction(statements: readonly string[]): Promise<void> {
    await this.client.query('BEGIN');
    let index = 0;
    try {
      for (; index < statements.length; index += 1) {
        this.executed.push(statements[index]);
        await this.client.query(statements[index]);
      }
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK');
      throw new SqlExecutionError((error as Error).message, index < statements.length ? index : undefined);
    }
  }
}
