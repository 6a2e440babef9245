// A throwaway CA per test run: ECDSA P-256 keys (fast to generate, accepted by OpenSSL in
// PostgreSQL and Redis, by Kafka's PEM keystore and by grpc-js), certificates that are both
// server and client certificates so one issue() serves mTLS on either side.
import 'reflect-metadata'; // @peculiar/x509 resolves its algorithms through tsyringe
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerTempDir, unregisterTempDir } from './process';
import type { CreateTestCaOptions, IssueOptions, IssuedCertificate, TestCa } from './types';

// Node's webcrypto: the repository compiles without the DOM lib, so its types come from node.
type CryptoKey = webcrypto.CryptoKey;
const crypto = webcrypto;
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 24 * 60 * 60 * 1000;
// Processes started by the harness and the test process may disagree by a little on "now".
const DEFAULT_BACKDATE_MS = 60 * 1000;

function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive INTEGER
  bytes[0] |= 0x01; // never a leading zero byte (DER minimal encoding)
  return Buffer.from(bytes).toString('hex');
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** CN values become file names: keep them readable and safe. */
function fileStem(commonName: string): string {
  return commonName.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'cert';
}

function validate(opts: IssueOptions): void {
  if (!opts || typeof opts.commonName !== 'string' || opts.commonName.trim() === '') {
    throw new Error('issue: commonName must be a non-empty string');
  }
  for (const ip of opts.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new Error(`issue: ipAddresses contains ${JSON.stringify(ip)}, which is not an IP address`);
  }
  for (const dns of opts.dnsNames ?? []) {
    if (typeof dns !== 'string' || !/^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(dns)) {
      throw new Error(`issue: dnsNames contains ${JSON.stringify(dns)}, which is not a DNS name`);
    }
  }
  if (opts.validDays !== undefined && !(Number.isFinite(opts.validDays) && opts.validDays > 0)) {
    throw new Error(`issue: validDays must be a positive number, got ${String(opts.validDays)}`);
  }
  for (const field of ['notBefore', 'notAfter'] as const) {
    const value = opts[field];
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime()))) {
      throw new Error(`issue: ${field} must be a valid Date`);
    }
  }
  if (opts.notBefore && opts.notAfter && opts.notAfter <= opts.notBefore) {
    throw new Error('issue: notAfter must be later than notBefore');
  }
}

/** Creates a CA with its certificate in `<dir>/ca.crt` (and key in `<dir>/ca.key`, 0600). */
export async function createTestCa(opts: CreateTestCaOptions = {}): Promise<TestCa> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'platform-test-ca-')));
  await mkdir(dir, { recursive: true });
  // A temp dir of our own goes when the process exits (under jest, when the test file ends), if
  // dispose() was not called.
  if (ownDir) registerTempDir(dir);
  const caName = `CN=${opts.commonName ?? 'platform test CA'}`;
  const caKeys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: caName,
    notBefore: new Date(now - DEFAULT_BACKDATE_MS),
    notAfter: new Date(now + 365 * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const caPem = caCert.toString('pem') + '\n';
  const caFile = join(dir, 'ca.crt');
  await writeFile(caFile, caPem);
  await writeFile(join(dir, 'ca.key'), await privateKeyPem(caKeys.privateKey), { mode: 0o600 });

  const issuedPerName = new Map<string, number>();

  async function issue(issueOpts: IssueOptions): Promise<IssuedCertificate> {
    validate(issueOpts);
    const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
    const notBefore = issueOpts.notBefore ?? new Date(Date.now() - DEFAULT_BACKDATE_MS);
    const notAfter = issueOpts.notAfter ?? new Date(notBefore.getTime() + DEFAULT_BACKDATE_MS + (issueOpts.validDays ?? 30) * DAY_MS);
    const names: x509.JsonGeneralName[] = [
      ...(issueOpts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(issueOpts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ];
    if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${issueOpts.commonName.replace(/([,+"\\<>;=])/g, '\\$1')}`,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      extensions,
    });
    const certPem = cert.toString('pem') + '\n';
    const keyPem = await privateKeyPem(keys.privateKey) + '\n';
    const stem = fileStem(issueOpts.commonName);
    const n = (issuedPerName.get(stem) ?? 0) + 1;
    issuedPerName.set(stem, n);
    const base = join(dir, n === 1 ? stem : `${stem}-${n}`);
    const certFile = `${base}.crt`;
    const keyFile = `${base}.key`;
    await writeFile(certFile, certPem);
    await writeFile(keyFile, keyPem, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    return { certFile, keyFile, certPem, keyPem };
  }

  async function dispose(): Promise<void> {
    if (!ownDir) return;
    await rm(dir, { recursive: true, force: true });
    unregisterTempDir(dir);
  }

  return { dir, caFile, caPem, issue, dispose };
}

/**
 * The test certificate of a service or server (services/README.md): CN=<name>, DNS SANs
 * <name> and localhost, IP SAN 127.0.0.1 and any `ipAddresses` the server also listens on.
 */
export function issueServiceCertificate(ca: TestCa, name: string, validDays?: number, ipAddresses: readonly string[] = []): Promise<IssuedCertificate> {
  return ca.issue({ commonName: name, dnsNames: [name, 'localhost'], ipAddresses: [...new Set(['127.0.0.1', ...ipAddresses])], validDays });
}
