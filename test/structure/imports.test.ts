/**
 * The top-level folders form layers, and an import only goes down them: lib/ (the spec, the
 * constructs, the stacks) is the base; charts/ and services/ build on it; bin/ composes stacks
 * and charts into the app; scripts/ may use all of those; test/ and then bench/ anything below.
 * A folder that imports one above it makes a cycle: neither can then be read, changed or
 * loaded without the other. What two layers both need goes down into the lower one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

const ROOT = resolve(__dirname, '..', '..');

type Folder = 'lib' | 'charts' | 'services' | 'bin' | 'scripts' | 'bench' | 'test';

/** What each folder may import besides itself. Everything not listed is refused. */
const MAY_IMPORT: Readonly<Record<Folder, readonly Folder[]>> = {
  lib: [],
  charts: ['lib'],
  services: ['lib'],
  bin: ['lib', 'charts'],
  scripts: ['lib', 'charts', 'services'],
  // The benchmarks drive the integration tests' local stack.
  bench: ['lib', 'charts', 'services', 'scripts', 'test'],
  test: ['lib', 'charts', 'services', 'bin', 'scripts'],
};
const FOLDERS = Object.keys(MAY_IMPORT) as Folder[];

const SOURCE = /\.(ts|mts|cts|mjs|cjs|js)$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'build', 'cdk.out', '.cache']);

interface Edge {
  readonly file: string;
  readonly specifier: string;
  readonly from: string;
  readonly to: string;
}

/** The folder-crossing relative imports of one file (import, export from, import(), require). */
function crossingImports(file: string, text: string): Edge[] {
  const from = file.split('/')[0]!;
  return ts.preProcessFile(text, true, true).importedFiles
    .map((ref) => ref.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => {
      const target = relative(ROOT, resolve(ROOT, dirname(file), specifier)).split(sep).join('/');
      return { file, specifier, from, to: target.split('/')[0]! };
    })
    .filter((edge) => edge.to !== edge.from);
}

/** The imports that go up a layer, or to a folder the table does not know. */
function violations(files: ReadonlyMap<string, string>): Edge[] {
  return [...files].flatMap(([file, text]) => crossingImports(file, text))
    .filter((edge) => !(MAY_IMPORT[edge.from as Folder] ?? []).includes(edge.to as Folder));
}

function sourcesUnder(folder: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) walk(path);
      else if (entry.isFile() && SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) found.set(path, readFileSync(join(ROOT, path), 'utf8'));
    }
  };
  walk(folder);
  return found;
}

describe('folder layers', () => {
  const sources = new Map(FOLDERS.flatMap((folder) => [...sourcesUnder(folder)]));

  it('the allowed directions have no cycle', () => {
    const reaches = (from: Folder, to: Folder, seen = new Set<Folder>()): boolean =>
      MAY_IMPORT[from].some((next) => next === to || (!seen.has(next) && (seen.add(next), reaches(next, to, seen))));
    expect(FOLDERS.filter((folder) => reaches(folder, folder))).toEqual([]);
  });

  it('no import goes up a layer: lib/ imports none of charts/, scripts/, test/; charts/ none of scripts/, test/; scripts/ not test/', () => {
    expect(violations(sources).map((e) => `${e.file}: ${e.specifier}`)).toEqual([]);
  });

  it('reads every kind of import, so the check above is not vacuous', () => {
    const seen = violations(new Map([
      ['lib/stacks/a.ts', "import { x } from '../../charts/lib/topology';\nimport type { Y } from '../../test/harness';"],
      ['charts/b.ts', "export { z } from '../scripts/dev';\nconst w = require('../test/x');"],
      ['scripts/c.ts', "async function f() { return import('../test/harness'); }"],
      ['charts/d.ts', "import { loadPlatformSpec } from '../lib/spec';\nimport * as k8s from 'cdk8s-plus-28/lib/imports/k8s';"],
    ]));
    expect(seen.map((e) => `${e.from} -> ${e.to}`)).toEqual(['lib -> charts', 'lib -> test', 'charts -> scripts', 'charts -> test', 'scripts -> test']);
    // And the repository's real imports are found: charts build on lib, tests on everything.
    const crossing = [...sources].flatMap(([file, text]) => crossingImports(file, text));
    expect(crossing.some((e) => e.from === 'charts' && e.to === 'lib')).toBe(true);
    expect(crossing.some((e) => e.from === 'test' && e.to === 'scripts')).toBe(true);
  });
});
