/**
 * Every relative link of README.md and docs/ names a file of this repository (and, into Markdown,
 * one of its headings): a link that resolves only beside this checkout is broken for everyone
 * who clones it alone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { anchorsOf, brokenLinks, documentationFiles, headingSlug, markdownLinks } from '../../scripts/docs/links';

const ROOT = path.join(__dirname, '..', '..');

describe('the repository documentation', () => {
  const files = documentationFiles(ROOT);

  it('covers README.md and every page under docs/, runbooks included', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/recipes.md', 'docs/ops.md', 'docs/runbooks/database.md']));
  });

  it('has no relative link that fails to resolve inside the repository', () => {
    expect(brokenLinks(ROOT, files)).toEqual([]);
    // Not vacuous: the pages link to each other and into headings.
    const links = files.flatMap((f) => markdownLinks(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
    expect(links.length).toBeGreaterThan(50);
    expect(links.filter((l) => /\.md#/.test(l.target)).length).toBeGreaterThan(0);
  });

  it('names no path beside the checkout', () => {
    const beside = files.filter((f) => fs.readFileSync(path.join(ROOT, f), 'utf8').includes('../shared'));
    expect(beside).toEqual([]);
  });
});

describe('the link checker', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'links-test-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, 'repo', file)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'repo', file), text);
  };

  it('reports a missing file, a missing heading and a path outside the repository, and nothing else', () => {
    fs.mkdirSync(path.join(dir, 'shared'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'shared', 'DESIGN.md'), '# Design\n');
    write('README.md', [
      '# Top',
      'See [ok](docs/a.md), [heading](docs/a.md#the-numbers-2026), [self](#top), [web](https://example.com),',
      '[gone](docs/missing.md), [wrong heading](docs/a.md#nope), [beside](../shared/DESIGN.md).',
      '`[in code](docs/missing.md)` and',
      '```',
      '[in a block](docs/missing.md)',
      '```',
      '[ref]: docs/also-missing.md',
      '',
    ].join('\n'));
    write('docs/a.md', '# A\n\n## The numbers (2026)\n');
    expect(brokenLinks(path.join(dir, 'repo'), ['README.md']).map((b) => `${b.line} ${b.target}: ${b.problem}`)).toEqual([
      '3 docs/missing.md: no such file docs/missing.md',
      '3 docs/a.md#nope: no heading #nope in docs/a.md',
      '3 ../shared/DESIGN.md: points outside the repository',
      '8 docs/also-missing.md: no such file docs/also-missing.md',
    ]);
  });

  it("makes GitHub's anchors: punctuation dropped, duplicates numbered", () => {
    expect(headingSlug('Database DR (spec §7: RPO 1 h, RTO 4 h)')).toBe('database-dr-spec-7-rpo-1-h-rto-4-h');
    expect(headingSlug('`npm run cost` [docs](x.md)')).toBe('npm-run-cost-docs');
    expect([...anchorsOf('# A\n## B\n## B\n<a id="custom"></a>\n```\n# not a heading\n```\n')]).toEqual(['a', 'b', 'b-1', 'custom']);
  });
});
