/**
 * scripts/precompile.mjs, the runner of the CDK app (cdk.json), the charts and the synth summary:
 * in a throwaway checkout, an entry runs from its transpiled JavaScript with its arguments, its
 * imports, its own folder and its exit status; only changed sources are transpiled again; a
 * deleted source takes its output with it; errors point at the TypeScript lines.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
let repo: string;

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
  fs.writeFileSync(path.join(repo, file), text);
}

function run(...args: string[]) {
  return spawnSync(process.execPath, [path.join(repo, 'scripts', 'precompile.mjs'), ...args], { cwd: repo, encoding: 'utf8' });
}

const output = (file: string) => path.join(repo, 'build', 'js', file);
const mtimes = () => Object.fromEntries(['bin/main.js', 'lib/greeting.js', 'lib/fail.js'].map((f) => [f, fs.statSync(output(f)).mtimeMs]));

beforeEach(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-precompile-'));
  fs.mkdirSync(path.join(repo, 'scripts'));
  fs.copyFileSync(path.join(root, 'scripts', 'precompile.mjs'), path.join(repo, 'scripts', 'precompile.mjs'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(repo, 'node_modules'), 'dir');
  fs.copyFileSync(path.join(root, 'tsconfig.json'), path.join(repo, 'tsconfig.json'));
  write('lib/greeting.ts', "import settings from './settings.json';\nexport const greeting = (name: string): string => `${settings.word}, ${name}`;\n");
  write('lib/settings.json', '{ "word": "hello" }\n');
  write('lib/fail.ts', "export function fail(): never {\n  const why: string = 'on purpose';\n  throw new Error(why);\n}\n");
  write('bin/main.ts', [
    "import * as fs from 'node:fs';",
    "import { greeting } from '../lib/greeting';",
    "import { fail } from '../lib/fail';",
    'const [name, code] = process.argv.slice(2);',
    "if (name === 'fail') fail();",
    'console.log(greeting(name));',
    "console.log(fs.existsSync(`${__dirname}/main.ts`) ? 'beside its source' : `not beside its source: ${__dirname}`);",
    "console.log(require.main === module ? 'the main module' : 'not the main module');",
    'process.exitCode = Number(code ?? 0);',
    '',
  ].join('\n'));
});
afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

test('runs an entry from its JavaScript as the main module: arguments, imports (JSON too), its source folder, its exit status', () => {
  const result = run('bin/main.ts', 'world', '3');
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe('hello, world\nbeside its source\nthe main module\n');
  expect(result.status).toBe(3);
  expect(fs.existsSync(output('bin/main.js'))).toBe(true);
});

test('transpiles only what changed; a deleted source takes its output with it', () => {
  expect(run('bin/main.ts', 'a').status).toBe(0);
  const before = mtimes();
  expect(run('bin/main.ts', 'b').stdout).toContain('hello, b');
  expect(mtimes()).toEqual(before);

  write('lib/greeting.ts', "export const greeting = (name: string): string => `bye, ${name}`;\n");
  write('lib/settings.json', '{ "word": "unused" }\n');
  expect(run('bin/main.ts', 'c').stdout).toContain('bye, c');
  const after = mtimes();
  expect(after['lib/greeting.js']).not.toBe(before['lib/greeting.js']);
  expect(after['bin/main.js']).toBe(before['bin/main.js']);

  fs.rmSync(path.join(repo, 'lib', 'fail.ts'));
  const missing = run('bin/main.ts', 'd');
  expect(missing.status).not.toBe(0);
  expect(missing.stderr).toMatch(/Cannot find module '\.\.\/lib\/fail'/);
  expect(fs.existsSync(output('lib/fail.js'))).toBe(false);
});

test('an error names the TypeScript file and line it was thrown from', () => {
  const result = run('bin/main.ts', 'fail');
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('Error: on purpose');
  expect(result.stderr).toContain(`${path.join(repo, 'lib', 'fail.ts')}:3`);
});

test('two runs at once on nothing transpiled yet both succeed', async () => {
  const once = () => new Promise<{ code: number | null; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'scripts', 'precompile.mjs'), 'bin/main.ts', 'twice'], { cwd: repo });
    let stdout = '';
    child.stdout.on('data', (chunk) => { stdout += String(chunk); });
    child.on('close', (code) => resolve({ code, stdout }));
  });
  const results = await Promise.all([once(), once()]);
  const expected = { code: 0, stdout: 'hello, twice\nbeside its source\nthe main module\n' };
  expect(results).toEqual([expected, expected]);
  expect(fs.readdirSync(path.join(repo, 'build', 'js', 'lib')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

test('refuses an entry that is not a TypeScript file of the checkout', () => {
  const result = run('bin/missing.ts');
  expect(result.status).toBe(2);
  expect(result.stderr).toContain('precompile: bin/missing.ts is not a TypeScript file of this repository');
});
