/**
 * A line diff (Myers' O((N+M)D) algorithm) and its unified rendering, for the rendered
 * Kubernetes manifests. No dependency: the manifests are small and the edits few.
 */

export interface Edit {
  readonly op: ' ' | '-' | '+';
  readonly line: string;
}

/** Beyond this many edits the diff is rendered as "all old lines out, all new lines in". */
const MAX_EDIT_DISTANCE = 2000;

export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The shortest edit script turning a into b. */
export function diffLines(a: readonly string[], b: readonly string[]): Edit[] {
  // Common prefix and suffix cost nothing and shrink the search.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const middle = myers(a.slice(start, endA), b.slice(start, endB));
  return [
    ...a.slice(0, start).map((line) => ({ op: ' ' as const, line })),
    ...middle,
    ...a.slice(endA).map((line) => ({ op: ' ' as const, line })),
  ];
}

function myers(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return [...a.map((line) => ({ op: '-' as const, line })), ...b.map((line) => ({ op: '+' as const, line }))];
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d][k + d] = furthest x on diagonal k after d edits (only -d..d is kept: O(D^2) memory).
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        trace.push(v.slice(offset - d, offset + d + 1));
        return backtrack(a, b, trace);
      }
    }
    trace.push(v.slice(offset - d, offset + d + 1));
  }
  // Too different to be worth aligning: replace everything.
  return [...a.map((line) => ({ op: '-' as const, line })), ...b.map((line) => ({ op: '+' as const, line }))];
}

function backtrack(a: readonly string[], b: readonly string[], trace: Int32Array[]): Edit[] {
  const edits: Edit[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d > 0; d--) {
    const previous = trace[d - 1];
    const at = (k: number) => previous[k + d - 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) { edits.push({ op: ' ', line: a[x - 1] }); x--; y--; }
    if (x === prevX) edits.push({ op: '+', line: b[y - 1] });
    else edits.push({ op: '-', line: a[x - 1] });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) { edits.push({ op: ' ', line: a[x - 1] }); x--; y--; }
  return edits.reverse();
}

/**
 * `diff -u` output for two texts (empty string when equal). A missing side (file added or
 * removed) is passed as undefined and labelled /dev/null, as git does.
 */
export function unifiedDiff(oldText: string | undefined, newText: string | undefined, oldLabel: string, newLabel: string, context = 3): string {
  if (oldText === newText) return '';
  const edits = diffLines(splitLines(oldText ?? ''), splitLines(newText ?? ''));
  const out = [`--- ${oldText === undefined ? '/dev/null' : oldLabel}`, `+++ ${newText === undefined ? '/dev/null' : newLabel}`];
  // Line numbers (0-based) of each edit in the old and the new text.
  const positions: { a: number; b: number }[] = [];
  let a = 0;
  let b = 0;
  for (const edit of edits) {
    positions.push({ a, b });
    if (edit.op !== '+') a++;
    if (edit.op !== '-') b++;
  }
  const changed = edits.map((edit, i) => (edit.op === ' ' ? -1 : i)).filter((i) => i >= 0);
  let i = 0;
  while (i < changed.length) {
    // Grow the hunk while the next change is within 2 * context lines of the last one.
    let last = i;
    while (last + 1 < changed.length && changed[last + 1] - changed[last] <= 2 * context + 1) last++;
    const from = Math.max(0, changed[i] - context);
    const to = Math.min(edits.length, changed[last] + context + 1);
    const hunk = edits.slice(from, to);
    const oldCount = hunk.filter((e) => e.op !== '+').length;
    const newCount = hunk.filter((e) => e.op !== '-').length;
    const oldStart = oldCount === 0 ? positions[from].a : positions[from].a + 1;
    const newStart = newCount === 0 ? positions[from].b : positions[from].b + 1;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const edit of hunk) out.push(`${edit.op}${edit.line}`);
    i = last + 1;
  }
  return `${out.join('\n')}\n`;
}
