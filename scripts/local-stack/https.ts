// One JSON request over HTTPS to a harness server, verified against the test CA (Node's fetch
// takes no CA of its own). Used by the Vault and Kubernetes API server starters.
import { request as httpsRequest } from 'node:https';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON of the servers' APIs, which the tests walk freely
export interface JsonResponse<T = any> {
  status: number;
  body: T;
  /** The raw body, for errors that are not JSON. */
  text: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON of the servers' APIs, which the tests walk freely
export function requestJson<T = any>(
  url: string,
  opts: {
    method?: string; body?: unknown; headers?: Record<string, string>; ca: string | Buffer; timeoutMs?: number; contentType?: string;
    /** A client certificate and key (PEM), for servers that require one (etcd). */
    cert?: string | Buffer; key?: string | Buffer;
  },
): Promise<JsonResponse<T>> {
  const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, {
      method: opts.method ?? (payload === undefined ? 'GET' : 'POST'),
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      headers: {
        accept: 'application/json',
        ...(payload === undefined ? {} : { 'content-type': opts.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) }),
        ...opts.headers,
      },
      timeout: opts.timeoutMs ?? 30000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON of the servers' APIs, which the tests walk freely
        let body: any;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          // Not JSON (an error page): the caller reads `text`.
        }
        resolve({ status: res.statusCode ?? 0, body, text });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${opts.method ?? 'GET'} ${url}: no answer within ${opts.timeoutMs ?? 30000} ms`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
