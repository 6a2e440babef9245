import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import type { App } from 'cdk8s';

let outdir: string | undefined;

// Removed once the test file is done; its apps render to objects (Testing.synth) and rarely write there.
afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
  outdir = undefined;
});

/**
 * A cdk8s App for a test. cdk8s's Testing.app() makes a new folder in the system's temporary
 * directory on every call and never removes it; these apps share one per test file, removed after it.
 */
export function chartTestApp(): App {
  outdir ??= mkdtempSync(join(tmpdir(), 'platform-test-cdk8s-'));
  return Testing.app({ outdir });
}
