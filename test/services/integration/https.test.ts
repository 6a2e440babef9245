/**
 * The gateway's public port over HTTPS (HTTP_TLS=true), as the ALB's HTTPS target group reaches
 * it: the full authenticated path works over TLS, and a renewed certificate (cert-manager
 * rewrites the files in place) is served to new connections without a restart.
 */
import { copyFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { startStack } from './stack';
import type { Stack } from './stack';

interface Answer { status: number; body: string; serial: string }

function get(url: string, ca: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A new connection each time (agent: false), so the certificate served now is the one seen.
    const req = request(`${url}${path}`, { ca, agent: false, headers }, (res) => {
      const der = (res.socket as TLSSocket).getPeerCertificate().raw;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial: new X509Certificate(der).serialNumber }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('api-gateway over HTTPS', () => {
  let stack: Stack;
  let url: string;
  let ca: string;
  let certFile: string;
  let keyFile: string;

  beforeAll(async () => {
    stack = await startStack();
    ca = stack.ca.caPem;
    // Its own copy of the gateway's certificate, so rotating it touches this replica only.
    certFile = join(stack.ca.dir, 'https-gateway.crt');
    keyFile = join(stack.ca.dir, 'https-gateway.key');
    await copyFile(stack.certs['api-gateway'].certFile, certFile);
    await copyFile(stack.certs['api-gateway'].keyFile, keyFile);
    const replica = await stack.startGateway({
      HTTP_TLS: 'true', HTTP_TLS_RELOAD_INTERVAL_MS: '100', TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile,
    });
    url = replica.url.replace(/^http:/, 'https:');
  });
  afterAll(async () => {
    await stack?.dispose();
  });

  it('serves the API over TLS with the gateway certificate, and refuses plain HTTP on that port', async () => {
    const answer = await get(url, ca, '/openapi.json');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).openapi).toMatch(/^3\./);
    expect(answer.serial).toBe(new X509Certificate(stack.certs['api-gateway'].certPem).serialNumber);
    const plain = await fetch(url.replace(/^https:/, 'http:') + '/openapi.json').then((r) => r.status, () => 'refused');
    expect(plain).not.toBe(200);
  });

  it('runs the authenticated path over TLS', async () => {
    const email = `tls-${Date.now()}@example.com`;
    const password = 'correct horse battery';
    const post = (path: string, body: unknown) => new Promise<Answer>((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = request(`${url}${path}`, { method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, serial: '' }));
      });
      req.on('error', reject);
      req.end(payload);
    });
    expect((await post('/v1/auth/signup', { email, password, name: 'Tls' })).status).toBe(201);
    const login = await post('/v1/auth/login', { email, password });
    expect(login.status).toBe(200);
    const me = await get(url, ca, '/v1/users/me', { authorization: `Bearer ${JSON.parse(login.body).accessToken}` });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body).email).toBe(email);
  });

  it('serves a renewed certificate to new connections without a restart', async () => {
    const renewed = await stack.ca.issue({ commonName: 'api-gateway', dnsNames: ['api-gateway', 'localhost'], ipAddresses: ['127.0.0.1'] });
    const want = new X509Certificate(renewed.certPem).serialNumber;
    expect(want).not.toBe((await get(url, ca, '/openapi.json')).serial);
    await copyFile(renewed.keyFile, keyFile);
    await copyFile(renewed.certFile, certFile);
    let seen = '';
    for (let i = 0; i < 100 && seen !== want; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = (await get(url, ca, '/openapi.json')).serial;
    }
    expect(seen).toBe(want);
  });
});
