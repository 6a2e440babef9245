/**
 * mTLS material from files (cert-manager's tls.crt, tls.key, ca.crt). grpc-js re-reads the
 * files periodically, so a renewed certificate is served without a restart.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { experimental } from '@grpc/grpc-js';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** How often the files are re-read; cert-manager renews well ahead of expiry, so a minute is plenty. */
  readonly refreshIntervalMs?: number;
}

export const DEFAULT_CERT_REFRESH_MS = 60_000;

/** Fails fast (naming the file) when the files do not form a usable certificate, key and CA. */
export function checkTlsFiles(files: TlsFiles): { subjectCN: string | undefined } {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const cert = read(files.certFile, 'certificate');
  const key = read(files.keyFile, 'private key');
  const ca = read(files.caFile, 'CA bundle');
  try {
    createSecureContext({ cert, key, ca });
  } catch (err) {
    throw new Error(`certificate ${files.certFile}, key ${files.keyFile} or CA ${files.caFile} unusable: ${(err as Error).message}`, { cause: err });
  }
  const subject = new X509Certificate(cert).subject;
  return { subjectCN: /^CN=(.*)$/m.exec(subject)?.[1] };
}

export interface WatchedCertificates {
  readonly provider: experimental.CertificateProvider;
  /** Resolves once the first read finished, so a server never starts without a certificate. */
  ready(): Promise<void>;
  /** Stops the holder listener that keeps the files watched. */
  close(): void;
}

/**
 * One provider for identity and CA. A listener is held so the watch (and its cached material)
 * stays warm between the channel's or server's own subscriptions.
 */
export function watchCertificates(files: TlsFiles): WatchedCertificates {
  checkTlsFiles(files);
  const provider = new experimental.FileWatcherCertificateProvider({
    certificateFile: files.certFile,
    privateKeyFile: files.keyFile,
    caCertificateFile: files.caFile,
    refreshIntervalMs: files.refreshIntervalMs ?? DEFAULT_CERT_REFRESH_MS,
  });
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => {
    resolveReady = resolve;
  });
  const listener = (update: experimental.IdentityCertificateUpdate | null) => {
    if (update) resolveReady();
  };
  provider.addIdentityCertificateListener(listener);
  return {
    provider,
    ready: () => readyPromise,
    close: () => provider.removeIdentityCertificateListener(listener),
  };
}
