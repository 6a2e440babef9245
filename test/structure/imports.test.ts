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

/**
 * The folders that import each other, directly or round about, read off the imports themselves
 * (not the table above): each cycle as its folders, sorted, with one import per step as evidence.
 */
function folderCycles(files: ReadonlyMap<string, string>): string[] {
  const edges = [...files].flatMap(([file, text]) => crossingImports(file, text));
  const next = new Map<string, Map<string, Edge>>();
  for (const edge of edges) {
    const out = next.get(edge.from) ?? new Map<string, Edge>();
    if (!out.has(edge.to)) out.set(edge.to, edge);
    next.set(edge.from, out);
  }
  const reachable = (from: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length > 0) {
      for (const to of next.get(stack.pop()!)?.keys() ?? []) if (!seen.has(to)) { seen.add(to); stack.push(to); }
    }
    return seen;
  };
  const reach = new Map([...next.keys()].map((folder) => [folder, reachable(folder)]));
  const cycles = new Set<string>();
  for (const [folder, reached] of reach) {
    if (!reached.has(folder)) continue;
    const members = [...reached].filter((other) => reach.get(other)?.has(folder)).sort();
    const steps = members.flatMap((a) => members.flatMap((b) => {
      const edge = next.get(a)?.get(b);
      return edge ? [`${edge.file} -> ${edge.specifier}`] : [];
    }));
    cycles.add(`${members.join(' <-> ')} (${steps.join('; ')})`);
  }
  return [...cycles].sort();
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

  it('no two top-level folders import each other, directly or through a third', () => {
    expect(folderCycles(sources)).toEqual([]);
  });

  it('finds a folder cycle when there is one, direct or through a third folder', () => {
    const direct = folderCycles(new Map([
      ['lib/spec/a.ts', "import { chart } from '../../charts/b';"],
      ['charts/b.ts', "import { loadPlatformSpec } from '../lib/spec';"],
      ['test/c.ts', "import { chart } from '../charts/b';"],
    ]));
    expect(direct).toEqual(['charts <-> lib (charts/b.ts -> ../lib/spec; lib/spec/a.ts -> ../../charts/b)']);
    const roundabout = folderCycles(new Map([
      ['scripts/a.mts', "export { h } from '../test/helpers/h';"],
      ['test/helpers/h.ts', "const s = require('../../services/x');"],
      ['services/x.ts', "async function f() { return import('../scripts/a.mjs'); }"],
      ['lib/d.ts', "import * as ts from 'typescript';"],
    ]));
    expect(roundabout).toEqual([
      'scripts <-> services <-> test (scripts/a.mts -> ../test/helpers/h; services/x.ts -> ../scripts/a.mjs; test/helpers/h.ts -> ../../services/x)',
    ]);
  });
});
