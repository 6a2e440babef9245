/**
 * The public port serves HTTPS when HTTP_TLS is on: the ALB's target group speaks HTTPS to the
 * pods (lib/constructs/edge/api-load-balancer.ts), so traffic stays encrypted inside the VPC. The
 * certificate is the gateway's cert-manager certificate (TLS_CERT_FILE / TLS_KEY_FILE); the ALB
 * does not verify it and presents no client certificate. cert-manager renews it in place, so
 * the files are polled and the server's secure context swapped without a restart.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Server } from 'node:https';
import type { Logger } from '../../shared/src/logger';

export interface HttpsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface KeyPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export function readKeyPair(files: HttpsFiles): KeyPair {
  return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
}

/**
 * Re-reads the pair whenever either file changes (stat polling: a Kubernetes Secret volume
 * swaps a symlink, which inotify on the file path misses). Returns a function that stops it.
 */
export function reloadCertificateOnChange(server: Server, files: HttpsFiles, logger: Logger, intervalMs = 10_000): () => void {
  const reload = () => {
    try {
      server.setSecureContext(readKeyPair(files));
      logger.info({ certFile: files.certFile }, 'HTTPS certificate reloaded');
    } catch (err) {
      // A half-written pair (cert renewed, key not yet): keep serving the old one, retry next change.
      logger.warn({ err, certFile: files.certFile }, 'HTTPS certificate reload failed; keeping the current one');
    }
  };
  const options = { interval: intervalMs, persistent: false };
  watchFile(files.certFile, options, reload);
  watchFile(files.keyFile, options, reload);
  return () => {
    unwatchFile(files.certFile, reload);
    unwatchFile(files.keyFile, reload);
  };
}
