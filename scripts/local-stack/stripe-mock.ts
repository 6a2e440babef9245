// stripe-mock, Stripe's own API mock server (`go install`ed into .cache/go/bin by
// scripts/setup/go-tools.sh), on a kernel-chosen loopback port over HTTP. It validates every
// request against Stripe's OpenAPI spec and answers with the spec's fixtures; it is stateless, so
// a test that needs another fixture value (a PaymentIntent that is `requires_capture`) passes
// `fixtures` overrides, written into a copy of the bundled fixtures file (stripe-mock -fixtures).
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HarnessError, ManagedProcess, REPO_ROOT, cacheDir, disposeOnce, installed, setUpInTempDir, tailFile, waitReady,
} from './process';

const READY_TIMEOUT_MS = 30000;
const MODULE = 'github.com/stripe/stripe-mock';

export interface StripeMockOptions {
  /**
   * Per resource (e.g. `payment_intent`), fields merged over the bundled fixture: stripe-mock
   * answers every request for that resource with them.
   */
  readonly fixtures?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface StripeMockServer {
  /** `http://127.0.0.1:<port>`: STRIPE_API_BASE for the service. */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  readonly pid: number | undefined;
  /** The requests stripe-mock served so far (`POST /v1/payment_intents`), from its verbose log. */
  requests(): string[];
  stop(): Promise<void>;
  dispose(): Promise<void>;
}

/** The version scripts/setup/go-tools.sh installs: read from its tool list, the one place it is written. */
export const STRIPE_MOCK_VERSION: string = (() => {
  const script = readFileSync(join(REPO_ROOT, 'scripts', 'setup', 'go-tools.sh'), 'utf8');
  const match = new RegExp(`"${MODULE.replace(/[.]/g, '\\.')}@(v[^"]+)"`).exec(script);
  if (!match) throw new HarnessError(`scripts/setup/go-tools.sh: no ${MODULE}@<version> in the tool list`);
  return match[1]!;
})();

export function findStripeMock(root = cacheDir('go', 'bin')): string {
  return installed(join(root, 'stripe-mock'), { script: 'go-tools.sh', what: `stripe-mock ${STRIPE_MOCK_VERSION}`, verb: 'install' });
}

/** The fixtures bundled with the installed version (copied out of Go's module cache by go-tools.sh). */
function bundledFixtures(): { resources: Record<string, Record<string, unknown>> } {
  const file = installed(cacheDir('go', 'stripe-mock', 'fixtures3.json'), { script: 'go-tools.sh', what: "stripe-mock's fixtures", verb: 'install' });
  return JSON.parse(readFileSync(file, 'utf8')) as { resources: Record<string, Record<string, unknown>> };
}

export async function startStripeMock(opts: StripeMockOptions = {}): Promise<StripeMockServer> {
  const binary = findStripeMock();
  return setUpInTempDir('stripe-mock', async (dir) => {
    const logFile = join(dir, 'stripe-mock.log');
    const args = [
      // Port 0: the kernel picks, and the log says which (no race between probing and binding).
      '-http-addr', '127.0.0.1:0',
      // stripe-mock also serves HTTPS unless told where: keep it on a socket in our temp dir.
      '-https-unix', join(dir, 'https.sock'),
      // One line per request ("Request: POST /v1/..."), which requests() counts.
      '-verbose',
    ];
    if (opts.fixtures) {
      const fixtures = bundledFixtures();
      for (const [resource, fields] of Object.entries(opts.fixtures)) {
        const base = fixtures.resources[resource];
        if (!base) throw new HarnessError(`startStripeMock: fixtures.${resource}: stripe-mock has no such resource`);
        fixtures.resources[resource] = { ...base, ...fields };
      }
      const file = join(dir, 'fixtures.json');
      await writeFile(file, JSON.stringify(fixtures));
      args.push('-fixtures', file);
    }
    const proc = new ManagedProcess({ name: 'stripe-mock', command: binary, args, cwd: dir, logFile, orphanDir: dir });
    proc.start();
    let port = 0;
    await waitReady(proc, async () => {
      const match = /Listening for HTTP at address: 127\.0\.0\.1:(\d+)/.exec(tailFile(logFile, 1_000_000));
      if (!match) return false;
      port = Number(match[1]);
      // Unauthenticated requests get Stripe's 401: the server is answering.
      const res = await fetch(`http://127.0.0.1:${port}/v1/balance`);
      return res.status === 401 || res.status === 200;
    }, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 50, what: 'HTTP on 127.0.0.1' });

    return {
      url: `http://127.0.0.1:${port}`,
      port,
      dir,
      logFile,
      get pid() {
        return proc.runningPid;
      },
      requests() {
        const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
        return [...text.matchAll(/^Request: (\S+ \S+)$/gm)].map((m) => m[1]!);
      },
      stop: () => proc.stop('SIGTERM', 5000),
      dispose: disposeOnce(dir, () => proc.stop('SIGKILL')),
    };
  });
}
