/**
 * Process lifecycle: on SIGTERM/SIGINT keep serving for the endpoint drain, then stop gracefully
 * (not ready, drain, close pools) and exit 0; a second signal, or a stop that outlives the grace
 * period, exits 1 at once.
 */
import type { Logger } from 'pino';

export interface Stoppable {
  stop(): Promise<void>;
}

export interface RunOptions {
  /** SHUTDOWN_GRACE_MS; the process gives stop() this long plus a small margin. */
  readonly graceMs: number;
  /**
   * ENDPOINT_DRAIN_MS: how long the process keeps serving, unchanged, after the signal. A pod
   * marked terminating still receives new connections until every kube-proxy has seen it leave
   * the Service's endpoints; stopping at once refuses them.
   */
  readonly endpointDrainMs?: number;
  readonly signals?: readonly NodeJS.Signals[];
  /** Injected by tests; process.exit otherwise. */
  readonly exit?: (code: number) => void;
}

const EXIT_MARGIN_MS = 2_000;

export function runUntilSignal(handle: Stoppable, logger: Logger, options: RunOptions): { stopped: Promise<number> } {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let stopping = false;
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  let finished = false;
  let drainTimer: NodeJS.Timeout | undefined;
  const finish = (code: number) => {
    if (finished) return;
    finished = true;
    if (drainTimer) clearTimeout(drainTimer);
    for (const s of signals) process.off(s, onSignal);
    logger.flush?.();
    resolveStopped(code);
    exit(code);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      finish(1);
      return;
    }
    stopping = true;
    const endpointDrainMs = options.endpointDrainMs ?? 0;
    logger.info({ signal, endpointDrainMs, graceMs: options.graceMs }, 'shutting down');
    if (endpointDrainMs > 0) {
      // Not unref'd: the process must live through the drain even with its servers idle.
      drainTimer = setTimeout(stop, endpointDrainMs);
    } else {
      stop();
    }
  };
  const stop = () => {
    drainTimer = undefined;
    const timer = setTimeout(() => {
      logger.error({ graceMs: options.graceMs }, 'shutdown exceeded the grace period');
      finish(1);
    }, options.graceMs + EXIT_MARGIN_MS);
    timer.unref();
    handle.stop().then(
      () => {
        clearTimeout(timer);
        logger.info('stopped');
        finish(0);
      },
      (err: unknown) => {
        clearTimeout(timer);
        logger.error({ err }, 'shutdown failed');
        finish(1);
      },
    );
  };
  for (const s of signals) process.on(s, onSignal);
  return { stopped };
}
