/**
 * Marked regions of a Markdown file: the text between `<!-- generated:NAME -->` and
 * `<!-- /generated:NAME -->` belongs to `npm run docs`; everything else is hand-written.
 */

export interface Region {
  readonly name: string;
  /** The text between the two markers, without the newline after the opening one. */
  readonly body: string;
  /** Line of the opening marker, 1-based, for messages. */
  readonly line: number;
}

export class RegionError extends Error {}

const MARKER = /<!-- (\/?)generated:([a-z0-9-]+) -->/g;

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

interface Span { name: string; line: number; bodyStart: number; bodyEnd: number }

function spans(text: string, file: string): Span[] {
  const found: Span[] = [];
  let open: { name: string; line: number; bodyStart: number } | undefined;
  for (const match of text.matchAll(MARKER)) {
    const [marker, closing, name] = match;
    const line = lineOf(text, match.index);
    if (!closing) {
      if (open) throw new RegionError(`${file}:${line}: generated:${name} opens inside generated:${open.name} (line ${open.line})`);
      if (found.some((s) => s.name === name)) throw new RegionError(`${file}:${line}: generated:${name} appears twice`);
      // The body starts on the line after the marker.
      const end = match.index + marker.length;
      open = { name, line, bodyStart: text[end] === '\n' ? end + 1 : end };
    } else {
      if (!open || open.name !== name) throw new RegionError(`${file}:${line}: /generated:${name} closes no open generated:${name}`);
      found.push({ ...open, bodyEnd: match.index });
      open = undefined;
    }
  }
  if (open) throw new RegionError(`${file}:${open.line}: generated:${open.name} is never closed`);
  return found;
}

export function findRegions(text: string, file = '(text)'): Region[] {
  return spans(text, file).map((s) => ({ name: s.name, line: s.line, body: text.slice(s.bodyStart, s.bodyEnd) }));
}

/**
 * The text with each region's body replaced by `render(name)` (a body always ends with a newline,
 * so the closing marker stays on its own line). Throws for a region `render` does not know.
 */
export function replaceRegions(text: string, render: (name: string) => string | undefined, file = '(text)'): string {
  let out = '';
  let at = 0;
  for (const s of spans(text, file)) {
    const body = render(s.name);
    if (body === undefined) throw new RegionError(`${file}:${s.line}: no generator for generated:${s.name}`);
    out += text.slice(at, s.bodyStart) + (body.endsWith('\n') ? body : `${body}\n`);
    at = s.bodyEnd;
  }
  return out + text.slice(at);
}
