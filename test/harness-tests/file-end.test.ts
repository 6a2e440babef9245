// What a test file leaves running or on disk goes when the file ends (test/environment.js with
// scripts/local-stack/process.ts), not when the jest worker exits: a worker runs many files, and
// jest may end it without running exit handlers, which left CA folders in /tmp after each run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, registerTempDir } from '../../scripts/local-stack/process';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PlatformEnvironment = require('../environment.js');

const ROOT = join(__dirname, '..', '..');
const FILE_END_HOOK = Symbol.for('platform.local-stack.cleanUp');

describe('clean-up at the end of a test file', () => {
  it('the local stack gives the file\'s global a clean-up that kills its running servers and removes its folders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'platform-test-file-end-'));
    registerTempDir(dir);
    const server = new ManagedProcess({ name: 'sleeper', command: 'sleep', args: ['600'], logFile: join(dir, 'sleeper.log') });
    server.start();
    expect(server.running).toBe(true);

    const cleanUp = (globalThis as Record<symbol, unknown>)[FILE_END_HOOK];
    expect(typeof cleanUp).toBe('function');
    (cleanUp as () => void)();
    expect(existsSync(dir)).toBe(false);
    expect(await server.waitExit()).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('the test environment runs that clean-up when the file ends, then jest\'s own teardown; a file without it ends as before', async () => {
    const config = { globalConfig: {}, projectConfig: { testEnvironmentOptions: {}, globals: {} } };
    const context = { console, docblockPragmas: {}, testPath: __filename };
    const withHook = new PlatformEnvironment(config, context);
    await withHook.setup();
    const calls: string[] = [];
    withHook.global[FILE_END_HOOK] = () => calls.push('clean-up');
    await withHook.teardown();
    expect(calls).toEqual(['clean-up']);
    expect(withHook.context).toBeNull();

    // The environment jest resolves from this repository's configuration is that one.
    const shown = JSON.parse(execFileSync(join(ROOT, 'node_modules', '.bin', 'jest'), ['--showConfig'], { cwd: ROOT, encoding: 'utf8' })) as { configs: { testEnvironment: string }[] };
    expect(shown.configs.map((c) => c.testEnvironment)).toEqual([join(ROOT, 'test', 'environment.js')]);

    const without = new PlatformEnvironment(config, context);
    await without.setup();
    await expect(without.teardown()).resolves.toBeUndefined();
    expect(without.context).toBeNull();
  });
});
