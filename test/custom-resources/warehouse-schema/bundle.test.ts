/**
 * The Lambda bundle of the warehouse schema custom resource: built by
 * lib/custom-resources/warehouse-schema/bundle.mjs with the local esbuild, byte-identical across builds, and
 * loadable by Node as the Lambda runtime loads it (ESM; the AWS SDK comes from the runtime, so it
 * is resolved from node_modules here).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const script = path.join(root, 'lib/custom-resources/warehouse-schema/bundle.mjs');

function bundleInto(dir: string): Buffer {
  execFileSync(process.execPath, [script, dir], { stdio: 'pipe' });
  return fs.readFileSync(path.join(dir, 'index.mjs'));
}

describe('warehouse-schema handler bundle', () => {
  // Inside the repository so that `@aws-sdk/*` (external, provided by Lambda) resolves.
  fs.mkdirSync(path.join(root, '.cache'), { recursive: true });
  const work = fs.mkdtempSync(path.join(root, '.cache', 'warehouse-schema-bundle-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('two builds are byte-identical', () => {
    expect(bundleInto(path.join(work, 'a')).equals(bundleInto(path.join(work, 'b')))).toBe(true);
  });

  test('the bundle loads, exports the handler, and leaves the AWS SDK to the runtime', () => {
    const bundle = fs.readFileSync(path.join(work, 'a', 'index.mjs'), 'utf8');
    expect(bundle).toContain('@aws-sdk/client-redshift-data');
    expect(bundle).toContain('@aws-sdk/client-secrets-manager');
    expect(bundle).not.toContain(root);
    const out = execFileSync(process.execPath, ['--input-type=module', '-e',
      `const m = await import(${JSON.stringify(path.join(work, 'a', 'index.mjs'))}); console.log(typeof m.handler);`],
    { encoding: 'utf8' });
    expect(out.trim()).toBe('function');
  });

  test('the bundled handler keeps everything on Delete', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      const { handler } = await import(${JSON.stringify(path.join(work, 'a', 'index.mjs'))});
      const r = await handler({ RequestType: 'Delete', PhysicalResourceId: 'wg/analytics/analytics',
        ResourceProperties: { WorkgroupName: 'wg', Database: 'analytics', SchemaName: 'analytics' } });
      console.log(JSON.stringify(r));`], { encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ PhysicalResourceId: 'wg/analytics/analytics' });
  });
});
