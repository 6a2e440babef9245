/**
 * Relative links of the repository's Markdown: every `[text](path#anchor)` outside code must name
 * a file of this checkout and, for a Markdown target, one of its headings (GitHub's anchors).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Link {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

export interface BrokenLink extends Link {
  readonly problem: string;
}

/** The Markdown text without fenced code blocks and inline code spans (line breaks kept). */
function withoutCode(text: string): string {
  const blanked = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ' '));
  return blanked.replace(/(`+)[^`\n]*?\1/g, (span) => ' '.repeat(span.length));
}

export function markdownLinks(file: string, text: string): Link[] {
  const prose = withoutCode(text);
  const links: Link[] = [];
  // [text](target) and ![alt](target); a title after the target ("...") is allowed.
  for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ file, line: prose.slice(0, match.index).split('\n').length, target: match[1] });
  }
  // Reference definitions: [label]: target
  for (const match of prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s|$)/gm)) {
    links.push({ file, line: prose.slice(0, match.index).split('\n').length, target: match[1] });
  }
  return links;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a Markdown file offers: its headings (duplicates numbered) and explicit ids. */
export function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of withoutCodeBlocks(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = headingSlug(match[1]);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  for (const match of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]);
  return anchors;
}

function withoutCodeBlocks(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/** The relative links of `files` (paths from `root`) that do not resolve inside `root`. */
export function brokenLinks(root: string, files: readonly string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (absolute: string) => {
    if (!anchorCache.has(absolute)) anchorCache.set(absolute, anchorsOf(fs.readFileSync(absolute, 'utf8')));
    return anchorCache.get(absolute)!;
  };
  const rootReal = fs.realpathSync(root);
  for (const file of files) {
    const absoluteFile = path.join(root, file);
    for (const link of markdownLinks(file, fs.readFileSync(absoluteFile, 'utf8'))) {
      if (EXTERNAL.test(link.target)) continue;
      const [rawPath, anchor] = link.target.split('#', 2) as [string, string | undefined];
      const target = rawPath === '' ? absoluteFile : path.resolve(path.dirname(absoluteFile), decodeURIComponent(rawPath));
      const relative = path.relative(rootReal, fs.existsSync(target) ? fs.realpathSync(target) : target);
      if (relative.startsWith('..') || path.isAbsolute(relative)) {
        broken.push({ ...link, problem: 'points outside the repository' });
      } else if (!fs.existsSync(target)) {
        broken.push({ ...link, problem: `no such file ${relative}` });
      } else if (anchor && target.endsWith('.md') && !anchors(target).has(anchor)) {
        broken.push({ ...link, problem: `no heading #${anchor} in ${relative}` });
      }
    }
  }
  return broken;
}

/** README.md and every Markdown file under docs/, as paths from `root`. */
export function documentationFiles(root: string): string[] {
  const walk = (dir: string): string[] => fs.readdirSync(path.join(root, dir), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(`${dir}/${e.name}`) : e.name.endsWith('.md') ? [`${dir}/${e.name}`] : []));
  return ['README.md', ...walk('docs').sort()];
}
