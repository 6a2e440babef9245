// Reads a service's database as the superuser: what the services stored, as a test checks it.
import { Client } from 'pg';
import type { AnyWorkload, PreparedStack } from './stack';

export async function queryDb<T>(stack: Pick<PreparedStack, 'pg' | 'databases'>, workload: AnyWorkload, sql: string, params: unknown[] = []): Promise<T[]> {
  const url = new URL(stack.pg.superuserUrl);
  url.pathname = `/${stack.databases[workload]!.database}`;
  const client = new Client({ connectionString: url.toString() });
  client.on('error', () => undefined); // a dropped connection fails the query below instead
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
