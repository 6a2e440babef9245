/**
 * IPv4 address sets as integer intervals: what a CIDR covers, and how much of one set another
 * covers. Every layer answers in these terms: a rule admits "all" of a peer's addresses, "some"
 * of them, or "none".
 */
import { addressCount, parseCidr } from '../../lib/spec';
import type { ParsedCidr } from '../../lib/spec';

export interface Interval { readonly start: number; readonly end: number } // end exclusive

/** How much of a set of addresses (or ports) a rule lets through. */
export type Coverage = 'all' | 'some' | 'none';

export const ANY_IPV4 = '0.0.0.0/0';

function parsedCidr(cidr: string): ParsedCidr {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`not an IPv4 CIDR block: ${cidr}`);
  return parsed;
}

export function cidrInterval(cidr: string): Interval {
  const parsed = parsedCidr(cidr);
  return { start: parsed.base, end: parsed.base + addressCount(parsed.prefix) };
}

/** The prefix length of a CIDR block (a longer one is a more specific route). */
export function cidrPrefix(cidr: string): number {
  return parsedCidr(cidr).prefix;
}

export function isCidr(value: unknown): value is string {
  return typeof value === 'string' && parseCidr(value) !== undefined;
}

export function cidrContains(outer: string, inner: string): boolean {
  const a = cidrInterval(outer);
  const b = cidrInterval(inner);
  return a.start <= b.start && b.end <= a.end;
}

export function cidrOverlaps(a: string, b: string): boolean {
  const x = cidrInterval(a);
  const y = cidrInterval(b);
  return x.start < y.end && y.start < x.end;
}

/** Merges overlapping or touching intervals (sorted output). */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const next of sorted) {
    const last = out[out.length - 1];
    if (last && next.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, next.end) };
    else out.push({ ...next });
  }
  return out;
}

/** How much of `target` the union of `covering` holds. */
export function coverage(target: Interval, covering: readonly Interval[]): Coverage {
  let covered = 0;
  for (const i of mergeIntervals(covering)) {
    const start = Math.max(i.start, target.start);
    const end = Math.min(i.end, target.end);
    if (end > start) covered += end - start;
  }
  if (covered === 0) return 'none';
  return covered >= target.end - target.start ? 'all' : 'some';
}

/**
 * Address space that is not the internet (RFC 6890 special-purpose blocks): a peer written as
 * 0.0.0.0/0 is "some host on the internet", so these are not part of it.
 */
const NOT_INTERNET = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/3'];

/** The addresses of a peer: its CIDR, or the public internet for 0.0.0.0/0. */
export function peerIntervals(peer: string): Interval[] {
  if (peer !== ANY_IPV4) return [cidrInterval(peer)];
  return NOT_INTERNET.reduce((pieces, cidr) => pieces.flatMap((p) => subtract(p, cidrInterval(cidr))), [cidrInterval(ANY_IPV4)]);
}

/** How much of a peer's addresses the union of `covering` holds. */
export function peerCoverage(peer: string, covering: readonly Interval[]): Coverage {
  const targets = peerIntervals(peer);
  const each = targets.map((t) => coverage(t, covering));
  if (each.every((c) => c === 'all')) return 'all';
  return each.every((c) => c === 'none') ? 'none' : 'some';
}

/** Coverage of a peer CIDR by a list of rule CIDRs, minus the `except` blocks (NetworkPolicy ipBlock). */
export function cidrCoverage(peer: string, blocks: ReadonlyArray<{ cidr: string; except?: readonly string[] }>): Coverage {
  const allowed: Interval[] = [];
  for (const block of blocks) {
    let pieces = [cidrInterval(block.cidr)];
    for (const except of block.except ?? []) pieces = pieces.flatMap((p) => subtract(p, cidrInterval(except)));
    allowed.push(...pieces);
  }
  return peerCoverage(peer, allowed);
}

function subtract(a: Interval, b: Interval): Interval[] {
  if (b.end <= a.start || b.start >= a.end) return [a];
  const out: Interval[] = [];
  if (b.start > a.start) out.push({ start: a.start, end: b.start });
  if (b.end < a.end) out.push({ start: b.end, end: a.end });
  return out;
}

/** The weaker of two answers: a flow is only as open as its most closed layer. */
export function weakest(a: Coverage, b: Coverage): Coverage {
  if (a === 'none' || b === 'none') return 'none';
  return a === 'some' || b === 'some' ? 'some' : 'all';
}
