// A small HTTP client for the gateway, shared by the integration tests and bench/orders: JSON in
// and out, problem+json checks and accounts created through the public API.
export interface Res {
  status: number;
  headers: Headers;
  // Parsed JSON (tests read fields freely).
  body: any;
  raw: string;
}

export interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Api = (method: string, path: string, opts?: CallOptions) => Promise<Res>;

/** `send`: another fetch, e.g. one over a TLS connection of the caller's (the local cluster's test). */
export function apiClient(base: string, send: typeof fetch = fetch): Api {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await send(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const raw = await res.text();
    let parsed: unknown;
    try {
      parsed = raw ? JSON.parse(raw) : undefined;
    } catch {
      parsed = raw;
    }
    return { status: res.status, headers: res.headers, body: parsed, raw };
  };
}

export interface Account {
  readonly email: string;
  readonly password: string;
  readonly userId: string;
  readonly access: string;
}

let counter = 0;

/** Signs up and logs in a new user; throws with the gateway's answer when either fails. */
export async function newAccount(api: Api, prefix: string, name = prefix): Promise<Account> {
  const email = `${prefix}-${++counter}-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  const signup = await api('POST', '/v1/auth/signup', { body: { email, password, name } });
  if (signup.status !== 201) throw new Error(`sign-up of ${email} answered ${signup.status}: ${signup.raw}`);
  const login = await api('POST', '/v1/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login of ${email} answered ${login.status}: ${login.raw}`);
  return { email, password, userId: signup.body.userId as string, access: login.body.accessToken as string };
}

/** A one-item order body; the total is quantity x unitPrice. */
export function orderBody(unitPrice = '19.99', quantity = 2, productId = 'sku-1', currency = 'USD') {
  return { items: [{ productId, quantity, unitPrice }], currency };
}
