/**
 * The grammars of the spec's compound values, defined once: ISO-8601 durations, IPv4 CIDR
 * blocks and Kubernetes quantities. The schema validates with these, and everything that computes
 * with such a value (the checks, constructs, charts, scripts) reads it through here.
 */

/** The ISO-8601 durations the spec uses: hours, minutes and seconds only (PT1H, PT30M, PT0S). */
export const ISO_DURATION = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/;

/** The parts an ISO duration gives; a part it leaves out is undefined (PT0H keeps hours: 0). */
export interface DurationParts {
  readonly hours?: number;
  readonly minutes?: number;
  readonly seconds?: number;
}

export function parseDuration(iso: string): DurationParts | undefined {
  const match = ISO_DURATION.exec(iso);
  if (!match) return undefined;
  const [hours, minutes, seconds] = match.slice(1, 4).map((part) => (part === undefined ? undefined : Number(part)));
  return { hours, minutes, seconds };
}

/** Seconds of an ISO duration, or undefined when it is not one (the schema reports that). */
export function parseDurationSeconds(iso: string): number | undefined {
  const parts = parseDuration(iso);
  if (!parts) return undefined;
  return (parts.hours ?? 0) * 3600 + (parts.minutes ?? 0) * 60 + (parts.seconds ?? 0);
}

/** Seconds in an ISO-8601 duration of the spec's form (PT1H, PT30M, PT0S). */
export function durationSeconds(iso: string): number {
  const seconds = parseDurationSeconds(iso);
  if (seconds === undefined) throw new Error(`not a PT duration: ${iso}`);
  return seconds;
}

/** An IPv4 CIDR block: its first address as a number, and its prefix length. */
export interface ParsedCidr { readonly base: number; readonly prefix: number }

export function parseCidr(value: string): ParsedCidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (base % addressCount(prefix) !== 0) return undefined; // host bits set: 10.0.0.1/16 is a typo
  return { base, prefix };
}

/** Addresses in a block of this prefix length (/16 -> 65536). */
export function addressCount(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function cidrsOverlap(a: ParsedCidr, b: ParsedCidr): boolean {
  const aEnd = a.base + addressCount(a.prefix);
  const bEnd = b.base + addressCount(b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** The dotted form of an IPv4 address given as a number (parseCidr's base). */
export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

/** Kubernetes quantities the spec accepts: CPU in millicores or cores, memory in Mi/Gi. */
export const CPU_QUANTITY = /^(\d+m|\d+(\.\d+)?)$/;
export const MEMORY_QUANTITY = /^\d+(Mi|Gi)$/;

/** Kubernetes CPU quantity in millicores (250m -> 250, 1.5 -> 1500). */
export function cpuMillis(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);
}

/** Kubernetes memory quantity in MiB (Mi/Gi only, as the schema accepts). */
export function memoryMiB(quantity: string): number {
  return quantity.endsWith('Gi') ? Number(quantity.slice(0, -2)) * 1024 : Number(quantity.slice(0, -2));
}
