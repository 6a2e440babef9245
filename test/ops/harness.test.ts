import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { runOps } from '../../scripts/ops/main';
import { motoForThisFile } from '../helpers/moto';

const moto = motoForThisFile();

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) } };
}

describe('the AWS API emulator', () => {
  it('answers the real SDK on loopback through AWS_ENDPOINT_URL', async () => {
    const rds = new RDSClient({ region: 'us-east-1' });
    const result = await rds.send(new DescribeDBInstancesCommand({}));
    expect(result.DBInstances).toEqual([]);
    expect(moto().endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('the ops CLI', () => {
  it('lists its commands on help and exits 2 without one', async () => {
    const c = capture();
    expect(await runOps([], c.io)).toBe(2);
    expect(c.out.join('\n')).toContain('usage: npm run ops -- <command>');
  });

  it('rejects an unknown command with one line and the usage', async () => {
    const c = capture();
    expect(await runOps(['frobnicate'], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/^ops: unknown command "frobnicate"/);
  });
});
