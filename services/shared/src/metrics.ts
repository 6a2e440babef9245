/**
 * Prometheus metrics (services/README.md "Ports, paths, metrics"). One Registry per process,
 * served on the health port. Latency buckets include 0.2 s exactly so the payment autoscaler's
 * p95 > 200 ms threshold falls on a bucket boundary.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10];

export const CERTIFICATE_EXPIRY_METRIC = 'tls_certificate_expiry_timestamp_seconds';

export class Metrics {
  readonly registry = new Registry();
  readonly grpcServerHandlingSeconds: Histogram<'grpc_service' | 'grpc_method' | 'grpc_code'>;
  readonly cacheRequestsTotal: Counter<'cache' | 'result'>;

  constructor(options: { readonly defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.grpcServerHandlingSeconds = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Time to handle a gRPC call on the server, by service, method and status code.',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers: [this.registry],
    });
    this.cacheRequestsTotal = new Counter({
      name: 'cache_requests_total',
      help: 'Cache lookups by cache name and result (hit or miss).',
      labelNames: ['cache', 'result'],
      registers: [this.registry],
    });
  }

  /** A histogram on this registry with the shared latency buckets (e.g. the gateway's HTTP one). */
  latencyHistogram<L extends string>(name: string, help: string, labelNames: readonly L[]): Histogram<L> {
    return new Histogram({ name, help, labelNames: [...labelNames], buckets: [...LATENCY_BUCKETS_SECONDS], registers: [this.registry] });
  }

  /**
   * `tls_certificate_expiry_timestamp_seconds`: notAfter of the serving certificate in `certFile`,
   * read at every scrape (cert-manager renews the file in place; an alert fires when a renewal
   * did not arrive). Idempotent: a process serves one certificate.
   */
  watchCertificateExpiry(certFile: string): void {
    if (this.registry.getSingleMetric(CERTIFICATE_EXPIRY_METRIC)) return;
    new Gauge({
      name: CERTIFICATE_EXPIRY_METRIC,
      help: 'Expiry (notAfter) of the serving TLS certificate, as a Unix timestamp.',
      registers: [this.registry],
      collect() {
        try {
          this.set(Date.parse(new X509Certificate(readFileSync(certFile)).validTo) / 1000);
        } catch {
          // Unreadable mid-renewal: keep the last figure rather than failing the scrape.
        }
      },
    });
  }

  cacheResult(cache: string, result: 'hit' | 'miss'): void {
    this.cacheRequestsTotal.inc({ cache, result });
  }
}
