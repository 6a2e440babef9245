/**
 * The synth's bundle cache (lib/custom-resources/bundle-cache.ts) with a real esbuild build of a
 * probe handler: reused byte for byte while nothing the build read changed, built again when a
 * source or the bundle script changes, nothing kept from a failed build.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleWithCache } from '../../lib/custom-resources/bundle-cache';

const root = path.resolve(__dirname, '../..');
const NODE_BUNDLE = pathToFileURL(path.join(root, 'lib/bundling/node-bundle.mts')).href;

describe('bundleWithCache', () => {
  // Inside the repository: the cache checks files by their path in it, and esbuild resolves from it.
  fs.mkdirSync(path.join(root, '.cache'), { recursive: true });
  let work: string;
  let probe: string;
  let cache: string;
  let outputs = 0;

  const writeScript = (extra = '') => fs.writeFileSync(path.join(probe, 'bundle.mjs'), [
    "import { appendFileSync } from 'node:fs';",
    "import * as path from 'node:path';",
    "import { fileURLToPath } from 'node:url';",
    `import { bundleLambdaHandler, bundleOutdirArg } from ${JSON.stringify(NODE_BUNDLE)};`,
    'const dir = path.dirname(fileURLToPath(import.meta.url));',
    // One line per build: what the test counts.
    "appendFileSync(path.join(dir, '..', 'builds.log'), 'build\\n');",
    'await bundleLambdaHandler(dir, bundleOutdirArg());',
    extra,
  ].join('\n'));
  const writeHelper = (word: string) => fs.writeFileSync(path.join(probe, 'helper.ts'), `export const word = (): string => ${JSON.stringify(word)};\n`);
  const builds = () => (fs.existsSync(path.join(work, 'builds.log')) ? fs.readFileSync(path.join(work, 'builds.log'), 'utf8').split('\n').filter(Boolean).length : 0);
  const bundle = () => {
    const out = path.join(work, `out-${++outputs}`);
    fs.mkdirSync(out);
    const how = bundleWithCache(probe, out, { root: cache });
    return { how, code: fs.readFileSync(path.join(out, 'index.mjs'), 'utf8'), files: fs.readdirSync(out) };
  };
  const entries = () => fs.readdirSync(cache);

  beforeEach(() => {
    work = fs.mkdtempSync(path.join(root, '.cache', 'bundle-cache-test-'));
    probe = path.join(work, 'probe');
    cache = path.join(work, 'cache');
    fs.mkdirSync(probe);
    fs.writeFileSync(path.join(probe, 'handler.ts'), "import { word } from './helper';\nexport const handler = async (): Promise<string> => word();\n");
    writeHelper('first');
    writeScript();
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  test('builds once, then gives the same bytes from the cache while nothing the build read changed', () => {
    const first = bundle();
    expect([first.how, first.files, builds()]).toEqual(['built', ['index.mjs'], 1]);
    expect(first.code).toContain('"first"');
    const again = bundle();
    expect([again.how, again.files, builds()]).toEqual(['cached', ['index.mjs'], 1]);
    expect(again.code).toBe(first.code);
    // The entry records the files the build read, the helper among them.
    const [entry, ...others] = entries();
    expect(others).toEqual([]);
    const inputs = JSON.parse(fs.readFileSync(path.join(cache, entry!, 'inputs.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(inputs)).toEqual(expect.arrayContaining([path.relative(root, path.join(probe, 'handler.ts')), path.relative(root, path.join(probe, 'helper.ts'))]));
  });

  test('bundles again when a file the build read changed, and keeps the new bundle', () => {
    bundle();
    writeHelper('second');
    const changed = bundle();
    expect([changed.how, builds()]).toEqual(['built', 2]);
    expect(changed.code).toContain('"second"');
    expect(changed.code).not.toContain('"first"');
    const again = bundle();
    expect([again.how, again.code, builds()]).toEqual(['cached', changed.code, 2]);
    expect(entries()).toHaveLength(1);
  });

  test('a changed bundle script is another entry, which replaces the earlier one', () => {
    bundle();
    const [before] = entries();
    writeScript('// changed');
    expect(bundle().how).toBe('built');
    const after = entries();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect(after[0]).toMatch(/^probe-[0-9a-f]{16}$/);
  });

  test('a failed build throws naming the script and keeps nothing', () => {
    fs.writeFileSync(path.join(probe, 'bundle.mjs'), "process.exit(3);\n");
    expect(() => bundle()).toThrow(`bundling ${path.join(probe, 'bundle.mjs')} failed (exit 3)`);
    expect(entries()).toEqual([]);
  });
});
