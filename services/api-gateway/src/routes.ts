/**
 * The public API as data: each route's method, path, schemas, authentication, authorization
 * and handler. The Fastify app registers exactly these routes and the OpenAPI document is
 * built from exactly these definitions, so the two cannot drift apart.
 */
import type { AuthServiceClient } from '../../proto/gen/auth/v1/auth';
import type { TokenPair } from '../../proto/gen/auth/v1/auth';
import type { UserServiceClient, User as UserMessage } from '../../proto/gen/user/v1/user';
import type { OrderServiceClient, Order as OrderMessage } from '../../proto/gen/order/v1/order';
import type { PaymentServiceClient, Payment as PaymentMessage } from '../../proto/gen/payment/v1/payment';
import { unary } from '../../shared/src/grpc-client';
import * as S from './schemas';

export interface Backends {
  readonly auth: AuthServiceClient;
  readonly users: UserServiceClient;
  readonly orders: OrderServiceClient;
  readonly payments: PaymentServiceClient;
}

/** A verified caller. */
export interface Principal {
  readonly subject: string;
  readonly tokenId: string;
  /** `exp` of the access token, seconds since the epoch. */
  readonly expiresAt: number;
  /** From the Authorize decision; empty on routes that do not authorize. */
  readonly roles: readonly string[];
}

/** Metadata and deadline of the internal calls made for one request. */
export interface CallContext {
  readonly requestId: string;
  readonly deadline: Date;
  readonly subject?: string;
  readonly roles?: readonly string[];
}

export interface RouteContext {
  readonly params: Record<string, string>;
  readonly query: Record<string, unknown>;
  readonly body: Record<string, unknown>;
  /** Request headers (lower-case names). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly principal: Principal | undefined;
  /** Metadata and deadline for calls made for this request. */
  readonly call: CallContext;
  readonly backends: Backends;
  /** Serves the cached JWKS (the same set the gateway verifies with). */
  readonly jwksDocument: () => Promise<{ json: string; maxAgeSeconds: number }>;
  readonly openApiDocument: () => string;
  /** Called after a successful logout so this replica forgets decisions made for the token. */
  readonly forgetToken: (tokenId: string) => void;
}

export interface RouteResult {
  readonly status: number;
  /** An object is serialized with the route's response schema; a string is sent as is. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An OpenAPI link: the operation a response leads to, and where its parameters come from. */
export interface LinkDoc {
  readonly operationId: string;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly requestBody?: unknown;
  readonly description?: string;
}

export interface ResponseDoc {
  readonly description: string;
  readonly schema?: object;
  /** Documented next steps (OpenAPI links), also what stateful fuzzing follows. */
  readonly links?: Readonly<Record<string, LinkDoc>>;
}

export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  /** OpenAPI path template, e.g. `/v1/users/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  /** `bearer`: a valid access token is required and rate limits are per subject; else per client IP. */
  readonly auth: 'anonymous' | 'bearer';
  /** The Authorize question for this request; routes with `bearer` auth and no `authorize` only need a valid token. */
  readonly authorize?: (params: Record<string, string>, principal: Pick<Principal, 'subject'>, request: { query: Record<string, unknown>; body: Record<string, unknown> }) => { action: string; resource: string };
  readonly params?: object;
  /** Request headers the route requires (names lower-case, as Fastify validates them). */
  readonly headers?: object;
  readonly query?: object;
  readonly body?: object;
  /** Success responses by status. */
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  /** Problem (application/problem+json) statuses this route can answer besides the common ones. */
  readonly problems: readonly number[];
  readonly handler: (ctx: RouteContext) => Promise<RouteResult>;
}

function userJson(user: UserMessage | undefined): Record<string, unknown> {
  if (!user) throw new Error('user-service answered without a user');
  return { id: user.id, email: user.email, name: user.name, createdAt: (user.createdAt ?? new Date(0)).toISOString() };
}

function tokenJson(tokens: TokenPair | undefined): Record<string, unknown> {
  if (!tokens) throw new Error('auth-service answered without tokens');
  return {
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType || 'Bearer',
    expiresIn: tokens.expiresIn,
    refreshToken: tokens.refreshToken,
    refreshExpiresIn: tokens.refreshExpiresIn,
  };
}

const iso = (d: Date | undefined) => (d ?? new Date(0)).toISOString();

function orderJson(order: OrderMessage | undefined): Record<string, unknown> {
  if (!order) throw new Error('order-service answered without an order');
  return {
    id: order.id, userId: order.userId,
    items: order.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPrice: i.unitPrice })),
    total: order.total, currency: order.currency, status: order.status,
    createdAt: iso(order.createdAt), updatedAt: iso(order.updatedAt),
  };
}

function paymentJson(payment: PaymentMessage | undefined): Record<string, unknown> {
  if (!payment) throw new Error('payment-service answered without a payment');
  return {
    id: payment.id, orderId: payment.orderId, userId: payment.userId, amount: payment.amount, currency: payment.currency,
    status: payment.status,
    // Empty proto strings mean "not set": left out rather than sent as "".
    ...(payment.providerReference ? { providerReference: payment.providerReference } : {}),
    ...(payment.failureReason ? { failureReason: payment.failureReason } : {}),
    ...(payment.refundReference ? { refundReference: payment.refundReference } : {}),
    createdAt: iso(payment.createdAt), updatedAt: iso(payment.updatedAt),
  };
}

/**
 * RBAC resources of orders and payments (auth-service's seeded permissions): a customer holds
 * `orders:*` on `users/{self}/orders` and `users/{self}/orders/*`, `payments:create` on
 * `users/{self}/payments` and `payments:read` on `users/{self}/payments/*`; admins `*` on
 * everything. The resource names the caller's own namespace; whether the order or payment
 * really is the caller's is order-service's and payment-service's check (another user's id is
 * NOT_FOUND, the same answer as an unknown id, so ids cannot be probed).
 */
const ownOrders = (p: Pick<Principal, 'subject'>) => `users/${p.subject}/orders`;
const ownPayments = (p: Pick<Principal, 'subject'>) => `users/${p.subject}/payments`;

// Tokens must never be stored by shared caches (RFC 6749 §5.1).
const NO_STORE = { 'Cache-Control': 'no-store' } as const;

const self = (_params: Record<string, string>, p: Pick<Principal, 'subject'>) => ({ action: 'users:read', resource: `users/${p.subject}` });
const selfUpdate = (_params: Record<string, string>, p: Pick<Principal, 'subject'>) => ({ action: 'users:update', resource: `users/${p.subject}` });

async function updateProfile(id: string, body: Record<string, unknown>, call: Parameters<RouteDefinition['handler']>[0]['call'], backends: Backends) {
  const res = await unary(backends.users, 'updateUser', { id, name: body.name as string }, call);
  return { status: 200, body: userJson(res.user) };
}

const byId = (operationId: string, from: string, description?: string): LinkDoc => ({
  operationId, parameters: { id: `$response.body#/${from}` }, ...(description ? { description } : {}),
});

export const ROUTES: readonly RouteDefinition[] = [
  {
    method: 'POST', path: '/v1/auth/signup', operationId: 'signUp', tag: 'auth', auth: 'anonymous',
    summary: 'Create an account (profile and credential).',
    body: S.SignupBody,
    responses: { 201: { description: 'Account created.', schema: S.SignupResponse, links: { GetUser: byId('getUser', 'userId', 'The new profile (its owner or an admin).') } } },
    problems: [409],
    async handler({ body, call, backends }) {
      const res = await unary(backends.auth, 'register', {
        email: body.email as string, password: body.password as string, name: body.name as string,
      }, call);
      return { status: 201, body: { userId: res.userId } };
    },
  },
  {
    method: 'POST', path: '/v1/auth/login', operationId: 'logIn', tag: 'auth', auth: 'anonymous',
    summary: 'Exchange email and password for an access token and a refresh token.',
    body: S.LoginBody,
    responses: { 200: { description: 'Tokens issued.', schema: S.TokenResponse } },
    problems: [401],
    async handler({ body, call, backends }) {
      const res = await unary(backends.auth, 'login', { email: body.email as string, password: body.password as string }, call);
      return { status: 200, body: tokenJson(res.tokens), headers: NO_STORE };
    },
  },
  {
    method: 'POST', path: '/v1/auth/refresh', operationId: 'refreshTokens', tag: 'auth', auth: 'anonymous',
    summary: 'Exchange a refresh token for a new token pair (the presented refresh token is spent).',
    body: S.RefreshBody,
    responses: { 200: { description: 'Tokens issued.', schema: S.TokenResponse } },
    problems: [401],
    async handler({ body, call, backends }) {
      const res = await unary(backends.auth, 'refresh', { refreshToken: body.refreshToken as string }, call);
      return { status: 200, body: tokenJson(res.tokens), headers: NO_STORE };
    },
  },
  {
    method: 'POST', path: '/v1/auth/logout', operationId: 'logOut', tag: 'auth', auth: 'bearer',
    summary: 'Revoke the refresh token and the access token presented with the request.',
    body: S.RefreshBody,
    responses: { 204: { description: 'Logged out.' } },
    problems: [],
    async handler({ body, call, backends, principal, forgetToken }) {
      const p = principal!;
      await unary(backends.auth, 'logout', {
        refreshToken: body.refreshToken as string, accessTokenId: p.tokenId, accessTokenExpiresAt: p.expiresAt,
      }, call);
      forgetToken(p.tokenId);
      return { status: 204 };
    },
  },
  {
    method: 'GET', path: '/.well-known/jwks.json', operationId: 'getJwks', tag: 'auth', auth: 'anonymous',
    summary: 'The public keys that verify access tokens (RFC 7517).',
    responses: { 200: { description: 'The key set.', schema: S.Jwks } },
    problems: [],
    async handler({ jwksDocument }) {
      const doc = await jwksDocument();
      return {
        status: 200, body: doc.json,
        headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': `public, max-age=${doc.maxAgeSeconds}` },
      };
    },
  },
  {
    method: 'GET', path: '/v1/users/me', operationId: 'getOwnUser', tag: 'users', auth: 'bearer',
    summary: "The caller's own profile.",
    authorize: self,
    responses: { 200: { description: 'The profile.', schema: S.User } },
    problems: [403, 404],
    async handler({ call, backends, principal }) {
      const res = await unary(backends.users, 'getUser', { id: principal!.subject }, call);
      return { status: 200, body: userJson(res.user) };
    },
  },
  {
    method: 'GET', path: '/v1/users/{id}', operationId: 'getUser', tag: 'users', auth: 'bearer',
    summary: 'A profile: the caller\'s own, or any for admins.',
    authorize: (params) => ({ action: 'users:read', resource: `users/${params.id}` }),
    params: S.UserIdParams,
    responses: { 200: { description: 'The profile.', schema: S.User } },
    problems: [403, 404],
    async handler({ params, call, backends }) {
      const res = await unary(backends.users, 'getUser', { id: params.id! }, call);
      return { status: 200, body: userJson(res.user) };
    },
  },
  {
    method: 'PATCH', path: '/v1/users/{id}', operationId: 'updateUser', tag: 'users', auth: 'bearer',
    summary: 'Change a profile\'s name: the caller\'s own, or any for admins (the login email changes with PUT /v1/users/me/email).',
    authorize: (params) => ({ action: 'users:update', resource: `users/${params.id}` }),
    params: S.UserIdParams,
    body: S.UpdateUserBody,
    responses: { 200: { description: 'The updated profile.', schema: S.User } },
    problems: [403, 404],
    handler: ({ params, body, call, backends }) => updateProfile(params.id!, body, call, backends),
  },
  {
    method: 'PATCH', path: '/v1/users/me', operationId: 'updateOwnUser', tag: 'users', auth: 'bearer',
    summary: "Change the caller's own name.",
    authorize: selfUpdate,
    body: S.UpdateUserBody,
    responses: { 200: { description: 'The updated profile.', schema: S.User } },
    problems: [403, 404],
    handler: ({ principal, body, call, backends }) => updateProfile(principal!.subject, body, call, backends),
  },
  {
    method: 'PUT', path: '/v1/users/me/email', operationId: 'changeOwnEmail', tag: 'users', auth: 'bearer',
    summary: 'Change the caller\'s login email, with the current password: the credential and the profile change together or not at all; '
      + 'the old address no longer logs in. An address any account holds is 409.',
    authorize: selfUpdate,
    body: S.ChangeEmailBody,
    responses: { 204: { description: 'The login email is changed.' } },
    problems: [403, 409],
    async handler({ body, call, backends }) {
      await unary(backends.auth, 'changeEmail', { newEmail: body.email as string, currentPassword: body.currentPassword as string }, call);
      return { status: 204 };
    },
  },
  {
    method: 'GET', path: '/v1/users', operationId: 'listUsers', tag: 'users', auth: 'bearer',
    summary: 'All profiles, paged (admins).',
    authorize: () => ({ action: 'users:list', resource: 'users' }),
    query: S.ListUsersQuery,
    responses: { 200: { description: 'One page of profiles.', schema: S.UserList } },
    problems: [403],
    async handler({ query, call, backends }) {
      const res = await unary(backends.users, 'listUsers', {
        pageSize: query.pageSize as number, pageToken: (query.pageToken as string | undefined) ?? '',
      }, call);
      return {
        status: 200,
        body: { users: res.users.map(userJson), ...(res.nextPageToken ? { nextPageToken: res.nextPageToken } : {}) },
      };
    },
  },
  {
    method: 'POST', path: '/v1/admin/signing-keys:rotate', operationId: 'rotateSigningKey', tag: 'admin', auth: 'bearer',
    summary: 'Start a signing-key rotation (the next key is published before it signs).',
    authorize: () => ({ action: 'auth:rotate-keys', resource: 'signing-keys' }),
    responses: { 200: { description: 'Rotation started.', schema: S.RotateResponse } },
    problems: [403, 409],
    async handler({ call, backends }) {
      const res = await unary(backends.auth, 'rotateSigningKey', {}, call);
      return { status: 200, body: { nextKid: res.nextKid, activatesAt: res.activatesAt } };
    },
  },
  {
    method: 'POST', path: '/v1/orders', operationId: 'createOrder', tag: 'orders', auth: 'bearer',
    summary: 'Place an order for the caller; the total is computed server-side from the items.',
    authorize: (_params, p) => ({ action: 'orders:create', resource: ownOrders(p) }),
    body: S.CreateOrderBody,
    responses: {
      201: {
        description: 'Order created (pending).', schema: S.Order,
        links: {
          GetOrder: byId('getOrder', 'id'),
          CancelOrder: byId('cancelOrder', 'id'),
          PayOrder: {
            operationId: 'createPayment', description: 'Pay the order: its total, in its currency.',
            requestBody: { orderId: '$response.body#/id', amount: '$response.body#/total', currency: '$response.body#/currency', paymentMethod: 'pm_card_visa' },
          },
        },
      },
    },
    problems: [403],
    async handler({ body, call, backends }) {
      const items = body.items as { productId: string; quantity: number; unitPrice: string }[];
      const res = await unary(backends.orders, 'createOrder', { userId: '', items, currency: body.currency as string }, call);
      const order = orderJson(res.order);
      return { status: 201, body: order, headers: { Location: `/v1/orders/${String(order.id)}` } };
    },
  },
  {
    method: 'GET', path: '/v1/orders/{id}', operationId: 'getOrder', tag: 'orders', auth: 'bearer',
    summary: "One of the caller's orders (admins: any order).",
    authorize: (params, p) => ({ action: 'orders:read', resource: `${ownOrders(p)}/${params.id}` }),
    params: S.OrderIdParams,
    responses: { 200: { description: 'The order.', schema: S.Order } },
    problems: [403, 404],
    async handler({ params, call, backends }) {
      const res = await unary(backends.orders, 'getOrder', { id: params.id! }, call);
      return { status: 200, body: orderJson(res.order) };
    },
  },
  {
    method: 'GET', path: '/v1/orders', operationId: 'listOrders', tag: 'orders', auth: 'bearer',
    summary: "The caller's orders, newest first, paged; admins may name another user with userId.",
    authorize: (_params, p, { query }) => ({
      action: 'orders:list',
      resource: `users/${typeof query.userId === 'string' ? query.userId : p.subject}/orders`,
    }),
    query: S.ListOrdersQuery,
    responses: { 200: { description: 'One page of orders.', schema: S.OrderList } },
    problems: [403],
    async handler({ query, call, backends, principal }) {
      const res = await unary(backends.orders, 'listOrders', {
        userId: (query.userId as string | undefined) ?? principal!.subject,
        pageSize: query.pageSize as number,
        pageToken: (query.pageToken as string | undefined) ?? '',
      }, call);
      return {
        status: 200,
        body: { orders: res.orders.map(orderJson), ...(res.nextPageToken ? { nextPageToken: res.nextPageToken } : {}) },
      };
    },
  },
  {
    method: 'POST', path: '/v1/orders/{id}:cancel', operationId: 'cancelOrder', tag: 'orders', auth: 'bearer',
    summary: 'Cancel a pending order (any other state is 409, also paying: a payment holds the order until it has failed or succeeded).',
    authorize: (params, p) => ({ action: 'orders:cancel', resource: `${ownOrders(p)}/${params.id}` }),
    params: S.OrderIdParams,
    responses: { 200: { description: 'The cancelled order.', schema: S.Order } },
    problems: [403, 404, 409],
    async handler({ params, call, backends }) {
      const res = await unary(backends.orders, 'cancelOrder', { id: params.id! }, call);
      return { status: 200, body: orderJson(res.order) };
    },
  },
  {
    method: 'POST', path: '/v1/payments', operationId: 'createPayment', tag: 'payments', auth: 'bearer',
    summary: 'Pay a pending order of the caller. Idempotent by the Idempotency-Key header: a retry with the same key and body '
      + 'returns the stored payment with the same 201 (draft-ietf-httpapi-idempotency-key-header); the same key with another body is 409. '
      + 'The order is held (paying) before anything is charged, so a cancel either wins before the charge or is refused; an amount or '
      + 'currency other than the order\'s is 409. A 503 means the outcome is not known yet: retry with the same key.',
    authorize: (_params, p) => ({ action: 'payments:create', resource: ownPayments(p) }),
    headers: S.IdempotencyKeyHeaders,
    body: S.CreatePaymentBody,
    responses: {
      201: {
        description: 'The payment (captured, or failed with failureReason); the stored one for a repeated key.', schema: S.Payment,
        links: { GetPayment: byId('getPayment', 'id'), RefundPayment: byId('refundPayment', 'id'), GetPaidOrder: byId('getOrder', 'orderId') },
      },
    },
    problems: [403, 404, 409],
    async handler({ body, headers, call, backends }) {
      const res = await unary(backends.payments, 'createPayment', {
        orderId: body.orderId as string, userId: '', amount: body.amount as string, currency: body.currency as string,
        idempotencyKey: headers['idempotency-key'] as string, paymentMethod: body.paymentMethod as string,
      }, call);
      const payment = paymentJson(res.payment);
      return { status: 201, body: payment, headers: { Location: `/v1/payments/${String(payment.id)}` } };
    },
  },
  {
    method: 'GET', path: '/v1/payments/{id}', operationId: 'getPayment', tag: 'payments', auth: 'bearer',
    summary: "One of the caller's payments (admins: any).",
    authorize: (params, p) => ({ action: 'payments:read', resource: `${ownPayments(p)}/${params.id}` }),
    params: S.PaymentIdParams,
    responses: { 200: { description: 'The payment.', schema: S.Payment } },
    problems: [403, 404],
    async handler({ params, call, backends }) {
      const res = await unary(backends.payments, 'getPayment', { id: params.id! }, call);
      return { status: 200, body: paymentJson(res.payment) };
    },
  },
  {
    method: 'POST', path: '/v1/payments/{id}:refund', operationId: 'refundPayment', tag: 'payments', auth: 'bearer',
    summary: 'Refund a captured payment in full (admins); refunding a refunded payment returns it.',
    authorize: (params) => ({ action: 'payments:refund', resource: `payments/${params.id}` }),
    params: S.PaymentIdParams,
    responses: { 200: { description: 'The refunded payment.', schema: S.Payment } },
    problems: [403, 404, 409],
    async handler({ params, call, backends }) {
      const res = await unary(backends.payments, 'refundPayment', { id: params.id! }, call);
      return { status: 200, body: paymentJson(res.payment) };
    },
  },
  {
    method: 'GET', path: '/openapi.json', operationId: 'getOpenApi', tag: 'meta', auth: 'anonymous',
    summary: 'This API\'s OpenAPI 3.1 document.',
    responses: { 200: { description: 'The document.', schema: S.OpenApiDocument } },
    problems: [],
    async handler({ openApiDocument }) {
      return { status: 200, body: openApiDocument(), headers: { 'Content-Type': 'application/json; charset=utf-8' } };
    },
  },
];

/**
 * OpenAPI `{id}` -> Fastify `:id`; a literal ':' (as in `signing-keys:rotate`) is `::` in Fastify.
 * Every parameter ends at a ':' (a regex parameter): `{id}:cancel` (AIP-136 custom methods) would
 * otherwise read as a parameter named `id::cancel`, and `GET /v1/orders/<id>:cancel` would reach
 * GET /v1/orders/{id} instead of answering 405.
 */
export function fastifyPath(openApiPath: string): string {
  return openApiPath.replace(/:/g, '::').replace(/\{([A-Za-z0-9_]+)\}/g, ':$1(^[^:/]+)');
}

/** A path template as a regular expression: which documented path a request path is. */
export function pathMatcher(openApiPath: string): RegExp {
  const parts = openApiPath.split(/(\{[A-Za-z0-9_]+\})/).map((part) => (/^\{.*\}$/.test(part) ? '[^/:]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('')}$`);
}
