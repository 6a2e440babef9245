/**
 * scripts/setup-tools.sh: the package installs run beside the Go builds, each lane's failure fails
 * the whole with the lane's output shown, and --only / --except choose the scripts. Run on a copy
 * of the script in a temporary repository whose scripts/setup/ holds small stand-in steps (the
 * real ones install for minutes on a cold machine); the script itself is the real one.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive as alive } from '../../scripts/local-stack/process';

const REPO = join(__dirname, '..', '..');
/** How long a step waits for the other lane before failing: a budget for a slow machine. */
const WAIT_SECONDS = 60;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'setup-tools-'));
  mkdirSync(join(dir, 'scripts', 'setup'), { recursive: true });
  copyFileSync(join(REPO, 'scripts', 'setup-tools.sh'), join(dir, 'scripts', 'setup-tools.sh'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A step that records its start, runs `body`, then records its end. */
function step(name: string, body = ''): void {
  const file = join(dir, 'scripts', 'setup', `${name}.sh`);
  writeFileSync(file, [
    '#!/usr/bin/env bash',
    'set -euo pipefail',
    `cd "$(dirname "$0")/../.."`,
    `echo $$ > pid.${name}`,
    `touch started.${name}`,
    `echo "step ${name}"`,
    body,
    `touch finished.${name}`,
    '',
  ].join('\n'));
  chmodSync(file, 0o755);
}

/** Shell lines that wait until another step has started, or fail after the budget. */
const waitFor = (other: string) =>
  `for i in $(seq ${WAIT_SECONDS * 10}); do [ -e started.${other} ] && break; sleep 0.1; done; [ -e started.${other} ]`;

function run(...args: string[]) {
  const result = spawnSync('bash', [join(dir, 'scripts', 'setup-tools.sh'), ...args], { encoding: 'utf8', timeout: (WAIT_SECONDS + 60) * 1000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
const ran = (name: string) => existsSync(join(dir, `finished.${name}`));

test('the package installs run beside the builds, and every step runs once', () => {
  // servers waits for the build beta and beta for servers: only side by side can both finish.
  step('servers', waitFor('beta'));
  step('python-tools');
  step('embedded-postgres');
  step('alpha');
  step('beta', waitFor('servers'));
  const result = run();
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  for (const name of ['servers', 'python-tools', 'embedded-postgres', 'alpha', 'beta']) expect(ran(name)).toBe(true);
  // The builds print as they go; the package lane's output comes in one piece after them.
  const lines = result.stdout.trim().split('\n');
  expect(lines).toEqual(['step alpha', 'step beta', 'step embedded-postgres', 'step python-tools', 'step servers']);
});

test('a failed package install fails the whole, with its output and the steps named', () => {
  step('servers', 'echo "apt-get says no" >&2; exit 7');
  step('python-tools');
  step('embedded-postgres');
  step('alpha');
  const result = run();
  expect(result.status).toBe(7);
  expect(result.stdout).toContain('apt-get says no');
  expect(result.stderr).toContain('the package installs (embedded-postgres python-tools servers) failed with status 7');
  expect(ran('alpha')).toBe(true);
});

test('a failed build stops the package lane and still shows what it printed', () => {
  step('servers', `echo "servers began"; ${waitFor('never')}`);
  step('alpha', `${waitFor('servers')}; exit 3`);
  const started = Date.now();
  const result = run();
  expect(result.status).toBe(3);
  expect(result.stdout).toContain('servers began');
  expect(ran('servers')).toBe(false);
  // Nothing of the lane is left running: the step's shell is gone (given a moment to exit).
  const pid = Number(readFileSync(join(dir, 'pid.servers'), 'utf8'));
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) spawnSync('sleep', ['0.1']);
  expect(alive(pid)).toBe(false);
  // Stopped, not waited for: servers alone would wait its whole budget.
  expect(Date.now() - started).toBeLessThan(WAIT_SECONDS * 1000);
});

test('--only and --except choose the scripts; a name that is no script is refused', () => {
  for (const name of ['servers', 'alpha', 'beta']) step(name);
  expect(run('--only', 'alpha', 'servers').status).toBe(0);
  expect([ran('alpha'), ran('servers'), ran('beta')]).toEqual([true, true, false]);

  rmSync(join(dir, 'finished.alpha'));
  rmSync(join(dir, 'finished.servers'));
  expect(run('--except', 'alpha', 'servers').status).toBe(0);
  expect([ran('alpha'), ran('servers'), ran('beta')]).toEqual([false, false, true]);

  const unknown = run('--only', 'alpha', 'nope');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toContain('no scripts/setup/nope.sh');
  const flag = run('--fast');
  expect(flag.status).toBe(2);
  expect(flag.stderr).toContain('unknown argument --fast');
});
