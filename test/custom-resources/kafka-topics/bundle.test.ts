/**
 * The Lambda bundle of the topics custom resource: built by lib/custom-resources/kafka-topics/bundle.mjs with
 * the local esbuild, byte-identical across builds, and loadable by Node as the Lambda runtime
 * loads it (ESM; the AWS SDK comes from the runtime, so it is resolved from node_modules here).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const script = path.join(root, 'lib/custom-resources/kafka-topics/bundle.mjs');

function bundleInto(dir: string): Buffer {
  execFileSync(process.execPath, [script, dir], { stdio: 'pipe' });
  return fs.readFileSync(path.join(dir, 'index.mjs'));
}

describe('kafka-topics handler bundle', () => {
  // Inside the repository so that `@aws-sdk/*` (external, provided by Lambda) resolves.
  fs.mkdirSync(path.join(root, '.cache'), { recursive: true });
  const work = fs.mkdtempSync(path.join(root, '.cache', 'topics-bundle-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('two builds are byte-identical', () => {
    expect(bundleInto(path.join(work, 'a')).equals(bundleInto(path.join(work, 'b')))).toBe(true);
  });

  test('the bundle loads and exports the handler', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e',
      `const m = await import(${JSON.stringify(path.join(work, 'a', 'index.mjs'))}); console.log(typeof m.handler);`],
    { encoding: 'utf8' });
    expect(out.trim()).toBe('function');
  });
});
