// The payment provider's record, as the tests read it. payment-service talks to stripe-mock
// through this recording proxy (STRIPE_API_BASE points here): every call is forwarded unchanged
// and recorded with its Idempotency-Key, form parameters and answer. stripe-mock keeps no state,
// so what the provider "did" is derived from the record with Stripe's documented rules: a request
// repeated with an Idempotency-Key already used is a replay of the first (same object, no second
// effect), and an intent is captured once however often capture is called with its key.
//
// A test can also stop payment-service at an exact point of a call (intercept): before the
// request is forwarded, or after the provider answered and before the answer reaches the service.
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface ProviderCall {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | undefined;
  /** The form body (application/x-www-form-urlencoded), keys as sent (`metadata[order_id]`). */
  readonly params: Readonly<Record<string, string>>;
  /** The provider's status code; 0 when the call was dropped before it was forwarded. */
  readonly status: number;
  /** `id` of the provider's answer (a PaymentIntent or Refund). */
  readonly objectId: string | undefined;
}

export type InterceptPoint = 'before-forward' | 'after-answer';
/** Return `drop` to close the service's connection without an answer (the service sees a network error). */
export type Interceptor = (point: InterceptPoint, call: { method: string; path: string; params: Readonly<Record<string, string>> }) => Promise<'pass' | 'drop'> | 'pass' | 'drop';

/** What the provider did for one order, by Stripe's rules. */
export interface ProviderRecord {
  /** PaymentIntents created for the order (one per Idempotency-Key). */
  readonly intents: readonly string[];
  /** Intents captured (each once, however many capture calls). */
  readonly captured: readonly string[];
  /** Intents refunded. */
  readonly refunded: readonly string[];
  /** Captured and not refunded: the customer's money the merchant keeps for this order. */
  readonly moneyTaken: number;
}

export interface ProviderLedger {
  readonly url: string;
  calls(): readonly ProviderCall[];
  recordOf(orderId: string): ProviderRecord;
  intercept(fn: Interceptor | undefined): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const INTENT_PATH = /^\/v1\/payment_intents\/([^/]+)\/(capture|cancel)$/;

export async function startProviderLedger(upstream: string): Promise<ProviderLedger> {
  const target = new URL(upstream);
  const calls: ProviderCall[] = [];
  let interceptor: Interceptor | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    const seen = { method, path, params };
    if (interceptor && (await interceptor('before-forward', seen)) === 'drop') {
      calls.push({ method, path, idempotencyKey: key, params, status: 0, objectId: undefined });
      req.socket.destroy();
      return;
    }
    const headers = { ...req.headers, host: target.host };
    const answer = await new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const out = httpRequest({ host: target.hostname, port: target.port, method, path, headers }, (upstreamRes) => {
        readBody(upstreamRes).then((b) => resolve({ status: upstreamRes.statusCode ?? 502, headers: upstreamRes.headers, body: b }), reject);
      });
      out.on('error', reject);
      out.end(body);
    });
    let objectId: string | undefined;
    try {
      const parsed = JSON.parse(answer.body.toString('utf8')) as { id?: unknown };
      objectId = typeof parsed.id === 'string' ? parsed.id : undefined;
    } catch {
      objectId = undefined;
    }
    calls.push({ method, path, idempotencyKey: key, params, status: answer.status, objectId });
    if (interceptor && (await interceptor('after-answer', seen)) === 'drop') {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => [...calls],
    intercept(fn) {
      interceptor = fn;
    },
    recordOf(orderId) {
      const ok = calls.filter((c) => c.status >= 200 && c.status < 300);
      // Stripe replays a request whose Idempotency-Key it has seen: the first answer is the object.
      const intentByKey = new Map<string, string>();
      const alias = new Map<string, string>();
      for (const c of ok) {
        if (c.method !== 'POST' || c.path !== '/v1/payment_intents' || c.params['metadata[order_id]'] !== orderId || !c.objectId) continue;
        const first = c.idempotencyKey ? intentByKey.get(c.idempotencyKey) : undefined;
        if (first) alias.set(c.objectId, first);
        else {
          if (c.idempotencyKey) intentByKey.set(c.idempotencyKey, c.objectId);
          alias.set(c.objectId, c.objectId);
        }
      }
      const intents = [...new Set(alias.values())];
      const captured = new Set<string>();
      const refunded = new Set<string>();
      for (const c of ok) {
        const m = INTENT_PATH.exec(c.path);
        if (c.method === 'POST' && m && m[2] === 'capture' && alias.has(m[1]!)) captured.add(alias.get(m[1]!)!);
        if (c.method === 'POST' && c.path === '/v1/refunds' && alias.has(c.params.payment_intent ?? '')) refunded.add(alias.get(c.params.payment_intent!)!);
      }
      return {
        intents,
        captured: [...captured],
        refunded: [...refunded],
        moneyTaken: [...captured].filter((i) => !refunded.has(i)).length,
      };
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
