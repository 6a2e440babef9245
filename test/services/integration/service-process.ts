// A service as its own process (src/main.ts under tsx, as `npm run dev` runs it), with the
// environment a Deployment would give it: what a crash test kills for real (SIGKILL, no drain,
// no cleanup) and starts again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, REPO_ROOT, registerTempDir, waitReady } from '../../../scripts/local-stack/process';

// A first start compiles the service with tsx and runs its migrations.
const READY_TIMEOUT_MS = 120_000;

export class ServiceProcess {
  private proc: ManagedProcess | undefined;
  readonly logFile: string;

  constructor(readonly name: string, private readonly env: Readonly<Record<string, string>>) {
    const dir = mkdtempSync(join(tmpdir(), `platform-test-${name}-`));
    registerTempDir(dir);
    this.logFile = join(dir, `${name}.log`);
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Starts the process and waits until its /readyz answers 200. */
  async start(): Promise<void> {
    this.proc = new ManagedProcess({
      name: this.name,
      command: process.execPath,
      args: ['--import', 'tsx', join(REPO_ROOT, 'services', this.name, 'src', 'main.ts')],
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env },
      logFile: this.logFile,
    });
    this.proc.start();
    const port = this.env.HEALTH_PORT;
    await waitReady(this.proc, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, {
      timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, what: `/readyz on ${port}`,
    });
  }

  /** A crash: SIGKILL, nothing runs after it in the process. Resolves when it is gone. */
  async kill(): Promise<void> {
    this.proc?.killNow();
    await this.proc?.waitExit();
  }

  /** A graceful stop (SIGTERM: the service drains). */
  async stop(): Promise<void> {
    await this.proc?.stop('SIGTERM', 30_000);
  }
}
