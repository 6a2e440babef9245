/**
 * The top self-time functions of a V8 CPU profile (node --cpu-prof), as a Markdown table:
 * self time summed per function (name, file, line), in ms and as a share of the busy time
 * (everything but `(idle)`), plus the share per file/package, which tells where the time goes.
 *
 *   tsx bench/gateway/profile-summary.ts <file.cpuprofile> [--top 25]
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame { readonly functionName: string; readonly url: string; readonly lineNumber: number }
interface ProfileNode { readonly id: number; readonly callFrame: CallFrame }
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime { readonly name: string; readonly ms: number; readonly share: number }

// esbuild marks where each module starts in a bundle with a `// <path>` comment line.
const bundleModules = new Map<string, { line: number; path: string }[]>();

function modulesOf(url: string): { line: number; path: string }[] {
  let modules = bundleModules.get(url);
  if (!modules) {
    modules = [];
    const file = url.startsWith('file://') ? fileURLToPath(url) : url;
    if (file.endsWith('.js') && existsSync(file)) {
      readFileSync(file, 'utf8').split('\n').forEach((text, line) => {
        const m = /^\/\/ (\S+\.(?:[cm]?js|ts))$/.exec(text);
        if (m) modules!.push({ line, path: m[1]! });
      });
    }
    bundleModules.set(url, modules);
  }
  return modules;
}

/** The module of a bundle a (0-based) line belongs to, when the bundle is on disk. */
function bundledModule(url: string, line: number): string | undefined {
  const modules = modulesOf(url);
  let found: string | undefined;
  let lo = 0;
  let hi = modules.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (modules[mid]!.line <= line) {
      found = modules[mid]!.path;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Where a frame's time is attributed: node_modules package, node: builtin, or the file itself (in a bundle, the module). */
export function origin(url: string, line = 0): string {
  if (url === '') return '(native/V8)';
  const inBundle = url.includes('/build/services/') ? bundledModule(url, line) : undefined;
  if (inBundle) return origin(inBundle);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '').replace(/^.*?\/(services|build)\//, '$1/');
}

export function summarise(profile: CpuProfile): { busyMs: number; totalMs: number; byFunction: SelfTime[]; byOrigin: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const org = new Map<string, number>();
  let busyUs = 0;
  let totalUs = 0;
  // timeDeltas[i] is the time before sample i; attribute it to sample i (as Chrome DevTools does).
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!node) continue;
    totalUs += dt;
    const f = node.callFrame;
    if (f.functionName === '(idle)') continue;
    busyUs += dt;
    const name = `${f.functionName || '(anonymous)'} ${f.url ? `${origin(f.url, f.lineNumber)}${f.url.includes('/build/services/') ? '' : `:${f.lineNumber + 1}`}` : ''}`.trim();
    fn.set(name, (fn.get(name) ?? 0) + dt);
    const o = f.url ? origin(f.url, f.lineNumber) : f.functionName.startsWith('(') ? f.functionName : '(native/V8)';
    org.set(o, (org.get(o) ?? 0) + dt);
  }
  const rank = (m: Map<string, number>): SelfTime[] => [...m].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return { busyMs: busyUs / 1000, totalMs: totalUs / 1000, byFunction: rank(fn), byOrigin: rank(org) };
}

export function toMarkdown(title: string, s: ReturnType<typeof summarise>, top: number): string {
  const row = (t: SelfTime) => `| ${t.name.replace(/\|/g, '\\|')} | ${t.ms.toFixed(0)} | ${(t.share * 100).toFixed(1)}% |`;
  return [
    `#### ${title}`,
    '',
    `busy ${s.busyMs.toFixed(0)} ms of ${s.totalMs.toFixed(0)} ms profiled`,
    '',
    '| self time by function | ms | share of busy |',
    '|---|---:|---:|',
    ...s.byFunction.slice(0, top).map(row),
    '',
    '| self time by package/file | ms | share of busy |',
    '|---|---:|---:|',
    ...s.byOrigin.slice(0, Math.min(top, 15)).map(row),
    '',
  ].join('\n');
}

if (require.main === module) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  if (positionals.length === 0) throw new Error('usage: profile-summary.ts <file.cpuprofile> ...');
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    process.stdout.write(`${toMarkdown(file, summarise(profile), Number(values.top))}\n`);
  }
}
