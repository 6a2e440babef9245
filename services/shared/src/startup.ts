/**
 * The parts every service's `start*()` repeats: undo steps run last-first (on stop, or when
 * start fails half-way), and a readiness gate that keeps /readyz at 503 until start-up is done
 * (migrations, consumers and the gRPC port come up after the health port).
 */
import type { Logger } from 'pino';
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
