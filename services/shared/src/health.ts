/**
 * The plaintext health port: /livez, /readyz and /metrics for the kubelet and Prometheus
 * (DESIGN.md §5: the kubelet's gRPC probe cannot present a client certificate). NetworkPolicy
 * keeps this port away from other workloads.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** A readiness check resolves when the dependency is reachable and rejects otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

export interface HealthServerOptions {
  readonly port: number;
  /** Bind address; all interfaces by default (the kubelet probes the pod IP). */
  readonly host?: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Per-check timeout; a probe must answer well inside the kubelet's own timeout. */
  readonly checkTimeoutMs?: number;
}

export interface HealthServer {
  readonly port: number;
  addReadinessCheck(name: string, check: ReadinessCheck): void;
  /** From now on /readyz answers 503 so the endpoint leaves the Service before the drain. */
  setDraining(): void;
  readonly draining: boolean;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const checks = new Map<string, ReadinessCheck>();
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  let draining = false;

  const runCheck = async (name: string, check: ReadinessCheck): Promise<[string, string]> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return [name, 'ok'];
    } catch (err) {
      return [name, err instanceof Error ? err.message : String(err)];
    } finally {
      clearTimeout(timer);
    }
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
    if (path === '/livez') return reply(200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      if (draining) return reply(503, 'application/json', JSON.stringify({ status: 'draining' }) + '\n');
      void Promise.all([...checks].map(([name, check]) => runCheck(name, check))).then((results) => {
        const failed = results.filter(([, r]) => r !== 'ok');
        if (failed.length > 0) options.logger.warn({ failed: Object.fromEntries(failed) }, 'readiness check failed');
        reply(failed.length === 0 ? 200 : 503, 'application/json', JSON.stringify({ status: failed.length === 0 ? 'ready' : 'not ready', checks: Object.fromEntries(results) }) + '\n');
      });
      return;
    }
    if (path === '/metrics') {
      void options.registry.metrics().then(
        (body) => reply(200, options.registry.contentType, body),
        (err: unknown) => {
          options.logger.error({ err }, 'collecting metrics failed');
          reply(500, 'text/plain', 'metrics unavailable\n');
        },
      );
      return;
    }
    reply(404, 'text/plain', 'not found\n');
  });
  // Probes are short; don't let an idle keep-alive connection hold shutdown.
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port }, 'health port listening');

  return {
    port,
    addReadinessCheck(name, check) {
      checks.set(name, check);
    },
    setDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
