import { findRegions, RegionError, replaceRegions } from '../../scripts/docs/regions';

describe('marked regions', () => {
  const text = [
    'intro',
    '<!-- generated:a -->',
    'old a',
    '<!-- /generated:a -->',
    'middle',
    '<!-- generated:b -->',
    '<!-- /generated:b -->',
    'end',
    '',
  ].join('\n');

  it('finds each region with its body and line', () => {
    expect(findRegions(text)).toEqual([
      { name: 'a', body: 'old a\n', line: 2 },
      { name: 'b', body: '', line: 6 },
    ]);
  });

  it('replaces bodies only, keeping the markers and the text around them', () => {
    const out = replaceRegions(text, (name) => (name === 'a' ? 'new a\nline 2' : 'B\n'));
    expect(out).toBe(['intro', '<!-- generated:a -->', 'new a', 'line 2', '<!-- /generated:a -->', 'middle',
      '<!-- generated:b -->', 'B', '<!-- /generated:b -->', 'end', ''].join('\n'));
    // Idempotent: a second pass with the same bodies changes nothing.
    expect(replaceRegions(out, (name) => (name === 'a' ? 'new a\nline 2\n' : 'B\n'))).toBe(out);
  });

  it.each([
    ['an unclosed region', '<!-- generated:a -->\nx\n', 'f.md:1: generated:a is never closed'],
    ['a region inside another', '<!-- generated:a -->\n<!-- generated:b -->\n<!-- /generated:b -->\n<!-- /generated:a -->\n', 'f.md:2: generated:b opens inside generated:a (line 1)'],
    ['a closing marker with no opening one', 'x\n<!-- /generated:a -->\n', 'f.md:2: /generated:a closes no open generated:a'],
    ['a region twice', '<!-- generated:a -->\n<!-- /generated:a -->\n<!-- generated:a -->\n<!-- /generated:a -->\n', 'f.md:3: generated:a appears twice'],
  ])('rejects %s, naming the file and line', (_, bad, message) => {
    expect(() => findRegions(bad, 'f.md')).toThrow(new RegionError(message));
  });

  it('rejects a region no generator knows', () => {
    expect(() => replaceRegions(text, (name) => (name === 'a' ? 'x' : undefined), 'f.md')).toThrow('f.md:6: no generator for generated:b');
  });
});
