/**
 * The parts every service's `start*()` repeats: undo steps run last-first (on stop, or when
 * start fails half-way), a readiness gate that keeps /readyz at 503 until start-up is done
 * (migrations, consumers and the gRPC port come up after the health port), the gRPC port, and
 * the graceful stop.
 */
import type { Logger } from 'pino';
import type { GrpcServer } from './grpc-server';
import type { HealthServer } from './health';

type Step = () => Promise<unknown> | unknown;

export class Cleanups {
  private readonly steps: Step[] = [];

  constructor(private readonly logger: Logger) {}

  push(step: Step): void {
    this.steps.push(step);
  }

  /** Runs every step, newest first; a failing step is logged and the rest still run. */
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        this.logger.warn({ err }, 'cleanup step failed');
      }
    }
  }
}

/** Adds a `started` readiness check that fails until the returned function is called. */
export function startupGate(health: Pick<HealthServer, 'addReadinessCheck'>): () => void {
  let started = false;
  health.addReadinessCheck('started', async () => {
    if (!started) throw new Error('starting');
  });
  return () => {
    started = true;
  };
}

/**
 * Listens on the service's gRPC port; readiness fails once the server drains, and the cleanups
 * shut it down at once if start-up fails after this. Returns the port it listens on.
 */
export async function serveGrpc(
  server: Pick<GrpcServer, 'listen' | 'isDraining' | 'forceShutdown'>,
  parts: { readonly port: number; readonly host?: string; readonly health: Pick<HealthServer, 'addReadinessCheck'>; readonly cleanups: Cleanups },
): Promise<number> {
  parts.cleanups.push(() => server.forceShutdown());
  const port = await server.listen(parts.port, parts.host);
  parts.health.addReadinessCheck('grpc', async () => {
    if (server.isDraining) throw new Error('draining');
  });
  return port;
}

/**
 * A gRPC service's stop, run once however often it is called: leave the Service first
 * (readiness 503), let the calls in flight finish within `graceMs`, then run the cleanups
 * newest first (consumers and relays before the pools they use, the health port last).
 */
export function gracefulStop(parts: {
  readonly health: Pick<HealthServer, 'setDraining'>;
  readonly server: Pick<GrpcServer, 'drain'>;
  readonly graceMs: number;
  readonly cleanups: Cleanups;
}): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      parts.health.setDraining();
      await parts.server.drain(parts.graceMs);
      await parts.cleanups.run();
    })();
    return stopping;
  };
}
