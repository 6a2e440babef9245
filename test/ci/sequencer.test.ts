// The order jest starts the test files in (test/sequencer.js): the local cluster's file, the
// longest of all but a small file, must start first on a fresh clone (no recorded durations, jest
// falls back to file sizes) and after runs that recorded durations or failures alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PlatformSequencer = require('../sequencer.js');

const CLUSTER = '/repo/test/cluster/local-cluster.test.ts';

function files(cacheDirectory: string | undefined, sizes: Record<string, number>) {
  const context = {
    config: { cache: cacheDirectory !== undefined, cacheDirectory: cacheDirectory ?? '/nonexistent', id: 'platform', haste: {} },
    hasteFS: { getSize: (path: string) => sizes[path] },
  };
  return Object.keys(sizes).map((path) => ({ path, context }));
}

const sizes = { '/repo/test/a.test.ts': 30_000, [CLUSTER]: 600, '/repo/test/b.test.ts': 9_000, '/repo/test/c.test.ts': 20_000 };
const order = (tests: { path: string }[]) => tests.map((t) => t.path.replace('/repo/test/', ''));

describe('the test sequencer', () => {
  let cacheDirectory: string;
  beforeEach(() => { cacheDirectory = mkdtempSync(join(tmpdir(), 'platform-test-sequencer-')); });
  afterEach(() => rmSync(cacheDirectory, { recursive: true, force: true }));

  it('starts the local cluster\'s file first on a fresh clone, then the others largest first', () => {
    expect(order(new PlatformSequencer({}).sort(files(undefined, sizes))))
      .toEqual(['cluster/local-cluster.test.ts', 'a.test.ts', 'c.test.ts', 'b.test.ts']);
  });

  it('keeps it first after a run that recorded durations and a failure, the rest in jest\'s order', () => {
    const tests = files(cacheDirectory, sizes);
    const result = (path: string, runtime: number, failing = 0) => ({ testFilePath: path, numFailingTests: failing, perfStats: { runtime } });
    new PlatformSequencer({}).cacheResults(tests, {
      testResults: [result('/repo/test/a.test.ts', 1_000), result(CLUSTER, 400_000), result('/repo/test/b.test.ts', 50_000), result('/repo/test/c.test.ts', 2_000, 1)],
    });
    // A new sequencer reads what the last one wrote: the failed file, then the longest.
    expect(order(new PlatformSequencer({}).sort(files(cacheDirectory, sizes))))
      .toEqual(['cluster/local-cluster.test.ts', 'c.test.ts', 'b.test.ts', 'a.test.ts']);
  });
});
