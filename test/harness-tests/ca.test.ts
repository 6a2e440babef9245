import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createTestCa, issueServiceCertificate, type TestCa } from '../harness';

let ca: TestCa;

beforeAll(async () => {
  ca = await createTestCa();
});

afterAll(async () => {
  await ca?.dispose();
});

describe('createTestCa', () => {
  test('writes a CA certificate that is a CA', async () => {
    const caCert = new X509Certificate(await readFile(ca.caFile));
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe('CN=platform test CA');
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(await readFile(ca.caFile, 'utf8')).toBe(ca.caPem);
  });

  test('issued certificates verify against the CA and carry the CN and SANs asked for', async () => {
    const issued = await ca.issue({ commonName: 'auth-service', dnsNames: ['auth-service', 'localhost'], ipAddresses: ['127.0.0.1'] });
    const cert = new X509Certificate(await readFile(issued.certFile));
    const caCert = new X509Certificate(ca.caPem);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe('CN=auth-service');
    expect(cert.subjectAltName).toBe('DNS:auth-service, DNS:localhost, IP Address:127.0.0.1');
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(issued.keyFile)))).toBe(true);
    expect(issued.keyPem).toContain('BEGIN PRIVATE KEY');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('user-service')).toBeUndefined();
  });

  test('a certificate from another CA does not verify', async () => {
    const other = await createTestCa();
    try {
      const issued = await other.issue({ commonName: 'intruder' });
      const cert = new X509Certificate(issued.certPem);
      expect(cert.checkIssued(new X509Certificate(ca.caPem))).toBe(false);
      expect(cert.verify(new X509Certificate(ca.caPem).publicKey)).toBe(false);
    } finally {
      await other.dispose();
    }
    expect(existsSync(other.dir)).toBe(false);
  });

  test('honours notBefore/notAfter and validDays', async () => {
    const notBefore = new Date('2020-01-01T00:00:00Z');
    const notAfter = new Date('2020-01-02T00:00:00Z');
    const expired = new X509Certificate((await ca.issue({ commonName: 'expired', notBefore, notAfter })).certPem);
    expect(new Date(expired.validFrom).toISOString()).toBe(notBefore.toISOString());
    expect(new Date(expired.validTo).toISOString()).toBe(notAfter.toISOString());
    const shortLived = new X509Certificate((await ca.issue({ commonName: 'short', validDays: 2 })).certPem);
    const days = (new Date(shortLived.validTo).getTime() - Date.now()) / 86400000;
    expect(days).toBeGreaterThan(1.9);
    expect(days).toBeLessThan(2.1);
  });

  test('issuing the same CN twice keeps both files', async () => {
    const a = await ca.issue({ commonName: 'twice' });
    const b = await ca.issue({ commonName: 'twice' });
    expect(a.certFile).not.toBe(b.certFile);
    expect(await readFile(a.certFile, 'utf8')).toBe(a.certPem);
    expect(await readFile(b.certFile, 'utf8')).toBe(b.certPem);
  });

  test('a CA in a given dir keeps the dir on dispose', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harness-ca-test-'));
    try {
      const given = await createTestCa({ dir, commonName: 'given CA' });
      expect(given.caFile).toBe(join(dir, 'ca.crt'));
      expect(new X509Certificate(given.caPem).subject).toBe('CN=given CA');
      await given.dispose();
      expect(existsSync(given.caFile)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('rejects bad input naming the field', async () => {
    await expect(ca.issue({ commonName: '' })).rejects.toThrow(/commonName/);
    await expect(ca.issue({ commonName: 'x', ipAddresses: ['localhost'] })).rejects.toThrow(/ipAddresses/);
    await expect(ca.issue({ commonName: 'x', dnsNames: ['bad name'] })).rejects.toThrow(/dnsNames/);
    await expect(ca.issue({ commonName: 'x', validDays: 0 })).rejects.toThrow(/validDays/);
    await expect(ca.issue({ commonName: 'x', notBefore: new Date('2020-01-02'), notAfter: new Date('2020-01-01') })).rejects.toThrow(/notAfter/);
  });

  test('issued certificates work for mutual TLS, and the peer CN is the identity', async () => {
    const server = await issueServiceCertificate(ca, 'user-service');
    const client = await issueServiceCertificate(ca, 'api-gateway');
    const tlsServer = createServer({ cert: server.certPem, key: server.keyPem, ca: ca.caPem, requestCert: true, rejectUnauthorized: true }, (socket: TLSSocket) => {
      socket.end(`hello ${socket.getPeerCertificate().subject.CN}`);
    });
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    try {
      const port = (tlsServer.address() as AddressInfo).port;
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, ca: ca.caPem, cert: client.certPem, key: client.keyPem });
        let data = '';
        socket.on('data', (d) => (data += d));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(reply).toBe('hello api-gateway');
    } finally {
      tlsServer.close();
    }
  });
});
