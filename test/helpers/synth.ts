/**
 * One synth of this tree per test file (both environments, offline, into a temp dir: never the
 * user's cdk.out/), the way `npm run diff` synthesizes a tree; removed after the file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthTree } from '../../scripts/review/synth-trees';

const ROOT = path.join(__dirname, '..', '..');

/** Synthesizes in beforeAll; the returned function gives the cloud assembly directory inside a test. */
export function synthForThisFile(): () => string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-synth-'));
  let cdkOut: string | undefined;
  beforeAll(async () => {
    cdkOut = (await synthTree(ROOT, path.join(work, 'out'))).cdkOut;
  }, 180_000);
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  return () => {
    if (!cdkOut) throw new Error('no synth yet (use it inside a test)');
    return cdkOut;
  };
}
