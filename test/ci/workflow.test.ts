/**
 * The GitHub workflow runs what the README and .ci/run run, and the pull request job runs the
 * diff and cost reports against the base branch. Parsed with js-yaml (installed as a
 * dependency of jest; no types, hence the narrow interface below).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const { load } = createRequire(__filename)('js-yaml') as { load(text: string): unknown };

interface Step { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string }
interface Job { 'if'?: string; needs?: string | string[]; permissions?: Record<string, string>; steps: Step[] }
interface Workflow { on: Record<string, unknown>; permissions: Record<string, string>; jobs: Record<string, Job> }

const root = path.join(__dirname, '..', '..');
const workflow = load(fs.readFileSync(path.join(root, '.github', 'workflows', 'ci.yml'), 'utf8')) as Workflow;
const runs = (job: Job) => job.steps.flatMap((s) => (s.run ? [s.run.trim()] : []));
const uses = (job: Job, action: string) => job.steps.find((s) => s.uses?.startsWith(`${action}@`));

/** The README's test command, from its fenced bash block. */
function readmeTestCommand(): string {
  const line = fs.readFileSync(path.join(root, 'README.md'), 'utf8').split('\n').find((l) => l.includes('npm test'));
  return (line ?? '').split('#')[0].trim();
}

describe('.github/workflows/ci.yml', () => {
  test('runs on pushes to main and on pull requests, read-only by default', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push']);
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  test('the test job runs exactly the README test command, which .ci/run runs too', () => {
    const command = readmeTestCommand();
    expect(command).toBe('. scripts/node.sh && npm ci && npm test');
    expect(runs(workflow.jobs.test)).toEqual(['sudo bash scripts/setup/servers.sh', command]);
    expect(fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8').split('\n')).toContain(command);
  });

  test('the test and review jobs set up the Node of .nvmrc (24 LTS) with the npm cache and Python 3.11, and the servers as root', () => {
    const job = workflow.jobs.test;
    expect(job.steps.map((s) => s.uses?.split('@')[0] ?? 'run')).toEqual(['actions/checkout', 'actions/setup-node', 'actions/setup-python', 'run', 'run']);
    // The runner is not root; the setup script that npm test runs would stop without this.
    expect(job.steps[3]!.run).toBe('sudo bash scripts/setup/servers.sh');
    expect(fs.readFileSync(path.join(root, '.nvmrc'), 'utf8')).toMatch(/^24\.\d+\.\d+\n$/);
    for (const j of [job, workflow.jobs.review]) {
      expect(uses(j, 'actions/setup-node')?.with).toEqual({ 'node-version-file': '.nvmrc', cache: 'npm' });
    }
    expect(uses(job, 'actions/setup-python')?.with).toEqual({ 'python-version': '3.11' });
  });

  test('the pull request job runs the diff, the cost estimate and the replacement guard against the base branch', () => {
    const job = workflow.jobs.review;
    expect(job.if).toBe("github.event_name == 'pull_request'");
    expect(uses(job, 'actions/checkout')?.with).toMatchObject({ 'fetch-depth': 0 });
    expect(runs(job)).toEqual([
      'npm ci',
      'npm run synth',
      'npm run diff -- --base "origin/$BASE_REF" --markdown diff.md',
      'npm run cost -- --base "origin/$BASE_REF" --markdown cost.md',
      'npm run check:replacements -- --base "origin/$BASE_REF"',
    ]);
    for (const step of job.steps.filter((s) => s.run?.includes('$BASE_REF'))) {
      expect(step.env).toEqual({ BASE_REF: '${{ github.base_ref }}' });
    }
    expect(job.permissions).toBeUndefined(); // inherits contents: read
  });

  test('one comment job, the only one allowed to write, posts both reports', () => {
    const job = workflow.jobs.comment;
    expect(job.needs).toBe('review');
    expect(job.permissions).toEqual({ 'pull-requests': 'write' });
    expect(runs(job)).toEqual([]); // runs no code of the pull request
    const script = String(uses(job, 'actions/github-script')?.with?.script);
    expect(script).toContain('review/diff.md');
    expect(script).toContain('review/cost.md');
    expect(script).toContain('updateComment');
    expect(script).toContain('createComment');
    for (const name of Object.keys(workflow.jobs).filter((n) => n !== 'comment')) {
      expect(workflow.jobs[name].permissions).toBeUndefined();
    }
  });

  test('every action is pinned by full commit SHA with its tag in a comment', () => {
    const text = fs.readFileSync(path.join(root, '.github', 'workflows', 'ci.yml'), 'utf8');
    const lines = text.split('\n').filter((l) => /^\s*-?\s*uses:/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
  });
});
