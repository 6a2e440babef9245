/**
 * The Fastify application: hooks for request id, deadline, authentication, rate limiting and
 * authorization around the handlers in routes.ts, UTF-8 JSON bodies read within their own time
 * budget (body.ts), 405 with Allow for a documented path with another method, and the error
 * handlers that turn every failure, the framework's and Node's included, into
 * application/problem+json.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { LogController } from 'fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Histogram } from 'prom-client';
import type { DecisionCache } from './authorize';
import { parseCidr } from './config';
import { headerName } from './headers';
import type { JwksCache, JwtVerifier } from './jwt';
import { InvalidTokenError, bearerToken } from './jwt';
import {
  PROBLEM_CONTENT_TYPE, ProblemError, isGrpcError, problem, problemFromGrpc,
} from './problem';
import type { FieldError, Problem } from './problem';
import type { RateLimitPolicy, RateLimiter } from './rate-limit';
import type { KeyPair } from './https';
import { rateLimitHeaders } from './rate-limit';
import { readJsonBody } from './body';
import { PATTERN_MESSAGE, isUuidSchema } from './schemas';
import { ROUTES, fastifyPath, pathMatcher } from './routes';
import type { Backends, Principal, RouteDefinition } from './routes';

export interface AppOptions {
  readonly logger: Logger;
  readonly backends: Backends;
  readonly verifier: JwtVerifier;
  readonly jwks: JwksCache;
  readonly decisions: DecisionCache;
  readonly limiter: RateLimiter;
  readonly policies: { readonly anonymous: RateLimitPolicy; readonly authenticated: RateLimitPolicy };
  /** Budget of the work done for a request once its body has arrived (also the gRPC deadline). */
  readonly requestTimeoutMs: number;
  /** Time a client has to send the whole request (headers and body) from its start. */
  readonly bodyTimeoutMs: number;
  readonly bodyLimitBytes: number;
  readonly trustedProxyCidrs: readonly string[];
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly openApiDocument: () => string;
  /** HTTPS on the public port (HTTP_TLS); plain HTTP when absent. */
  readonly https?: KeyPair;
}

interface GatewayRequestState {
  deadline: Date;
  /** By when the body must have arrived (epoch milliseconds). */
  bodyDeadline: number;
  principal: Principal | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    gateway: GatewayRequestState;
  }
  interface FastifyInstance {
    /** Every route registered, as `METHOD url` (the OpenAPI sync test compares them with the document). */
    publicRoutes: string[];
  }
  interface FastifyContextConfig {
    route?: RouteDefinition;
  }
}

// Unknown fields are refused (named in the 400), not silently dropped. Path, query and headers
// arrive as text and are coerced to their schema types; JSON bodies are not coerced, so an
// amount sent as a JSON number (a float, already rounded) is refused instead of turned into a string.
// verbose: errors carry their schema, so a pattern failure is explained by the schema's
// PATTERN_MESSAGE rather than by the regular expression.
const AJV_OPTIONS = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false, verbose: true } as const;
const textAjv = addFormats(new Ajv({ ...AJV_OPTIONS, coerceTypes: 'array' }));
const bodyAjv = addFormats(new Ajv({ ...AJV_OPTIONS, coerceTypes: false }));

// A client's id is echoed into logs and metadata: accept only short, plain tokens.
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

export function buildApp(options: AppOptions) {
  const app = Fastify({
    // null = plain HTTP (fastify creates an http.Server).
    https: options.https ?? null,
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    // Backstop only, counted from the request's start: the body's own budget (408) and then the
    // gRPC deadlines (504) end a slow request first.
    handlerTimeout: options.bodyTimeoutMs + options.requestTimeoutMs + 1000,
    // Node's own limit on receiving a request (slow headers); past the body's budget, which answers first.
    requestTimeout: options.bodyTimeoutMs + 1000,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    trustProxy: options.trustedProxyCidrs.length > 0 ? options.trustedProxyCidrs.map((c) => {
      const { address, prefix } = parseCidr(c)!;
      return `${address}/${prefix}`;
    }) : false,
    // Fastify's own 503 while closing is plain JSON: the onRequest hook below answers instead.
    return503OnClosing: false,
    // HEAD would be an undocumented twin of every GET.
    exposeHeadRoutes: false,
    frameworkErrors: (error, _request, reply) => {
      // Router-level failures (malformed URL encoding, too-long params): the client's fault.
      sendProblem(reply, problem(400, error.message));
    },
    // Errors Node's HTTP parser meets before a request exists (headers too large, malformed).
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => writeClientError(err, socket, options.logger),
  });

  // Only UTF-8 JSON bodies, read by body.ts; anything else has no parser and is 415.
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  const parseJson = (request: FastifyRequest, text: string) => new Promise<unknown>((resolve, reject) => {
    defaultJson(request, text, (err: Error | null, value?: unknown) => (err ? reject(err) : resolve(value)));
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', async (request: FastifyRequest) => readJsonBody(request.raw, {
    limit: options.bodyLimitBytes, deadline: request.gateway.bodyDeadline, parse: (text) => parseJson(request, text),
  }));

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));

  app.decorateRequest('gateway', null as unknown as GatewayRequestState);
  app.decorate('publicRoutes', [] as string[]);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) app.publicRoutes.push(`${method} ${route.url}`);
  });

  app.addHook('onRequest', async (request, reply) => {
    const now = Date.now();
    request.gateway = { deadline: new Date(now + options.requestTimeoutMs), bodyDeadline: now + options.bodyTimeoutMs, principal: undefined };
    reply.header('X-Request-Id', request.id);
    if (closing) throw new ProblemError(problem(503, 'the gateway is shutting down; retry'), { Connection: 'close' });
  });

  // The body has arrived: the request's own budget starts now (a slow client does not eat the
  // backends' deadline), and ids are compared and forwarded in the one form the services use.
  app.addHook('preValidation', async (request) => {
    request.gateway.deadline = new Date(Date.now() + options.requestTimeoutMs);
    const def = request.routeOptions.config.route;
    if (!def) return;
    lowerCaseIds(request.params as Record<string, unknown>, def.params);
    lowerCaseIds(request.query as Record<string, unknown>, def.query);
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.config.route?.path ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    options.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, seconds);
    const line = { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime), reqId: request.id };
    if (reply.statusCode >= 500) request.log.warn(line, 'request failed');
    else request.log.debug(line, 'request');
  });

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      reply.header('WWW-Authenticate', 'Bearer');
      throw new ProblemError(problem(401, 'a Bearer access token is required (Authorization header)'));
    }
    const verified = await options.verifier.verify(token, request.gateway.deadline);
    request.gateway.principal = { subject: verified.subject, tokenId: verified.tokenId, expiresAt: verified.expiresAt, roles: [] };
  };

  const rateLimit = async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = request.gateway.principal;
    const decision = principal
      ? await options.limiter.consume(options.policies.authenticated, `sub:${principal.subject}`)
      : await options.limiter.consume(options.policies.anonymous, `ip:${request.ip}`);
    reply.headers(rateLimitHeaders(decision));
    if (!decision.allowed) {
      throw new ProblemError(problem(429, `rate limit of ${decision.policy.limit} requests per ${decision.policy.windowSeconds} s exceeded; retry in ${decision.resetSeconds} s`));
    }
  };

  for (const def of ROUTES) {
    const authorize = def.authorize;
    app.route({
      method: def.method,
      url: fastifyPath(def.path),
      config: { route: def },
      schema: {
        ...(def.params ? { params: def.params } : {}),
        ...(def.query ? { querystring: def.query } : {}),
        ...(def.body ? { body: def.body } : {}),
        ...(def.headers ? { headers: def.headers } : {}),
        response: Object.fromEntries(Object.entries(def.responses).filter(([, r]) => r.schema).map(([s, r]) => [s, r.schema])),
      },
      onRequest: def.auth === 'bearer' ? [authenticate, rateLimit] : [rateLimit],
      preHandler: authorize ? async (request) => {
        const principal = request.gateway.principal!;
        const { action, resource } = authorize(request.params as Record<string, string>, principal, {
          query: (request.query ?? {}) as Record<string, unknown>,
          body: (request.body ?? {}) as Record<string, unknown>,
        });
        const decision = await options.decisions.decide(
          { subject: principal.subject, action, resource, tokenId: principal.tokenId },
          { deadline: request.gateway.deadline, requestId: request.id },
        );
        if (!decision.allowed) throw new ProblemError(problem(403, `not allowed: ${action} on ${resource}`));
        request.gateway.principal = { ...principal, roles: decision.roles };
      } : undefined,
      handler: async (request, reply) => {
        const principal = request.gateway.principal;
        const result = await def.handler({
          params: (request.params ?? {}) as Record<string, string>,
          query: (request.query ?? {}) as Record<string, unknown>,
          body: (request.body ?? {}) as Record<string, unknown>,
          headers: request.headers,
          principal,
          call: {
            requestId: request.id,
            deadline: request.gateway.deadline,
            ...(principal ? { subject: principal.subject, roles: principal.roles } : {}),
          },
          backends: options.backends,
          jwksDocument: () => options.jwks.document(request.gateway.deadline),
          openApiDocument: options.openApiDocument,
          forgetToken: (tokenId) => options.decisions.forgetToken(tokenId),
        });
        reply.code(result.status);
        if (result.headers) reply.headers(result.headers);
        return reply.send(result.body);
      },
    });
  }

  // A documented path with another method is 405 with the methods it has (RFC 9110 §15.5.6).
  const matchers = ROUTES.map((r) => ({ method: r.method, matches: pathMatcher(r.path) }));
  const unmatched = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0]!;
    const allowed = [...new Set(matchers.filter((m) => m.matches.test(path)).map((m) => m.method))].sort();
    if (allowed.length > 0 && !allowed.includes(request.method as (typeof allowed)[number])) {
      reply.header('Allow', allowed.join(', '));
      sendProblem(reply, problem(405, `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`));
      return;
    }
    sendProblem(reply, problem(404, `no route ${request.method} ${path}`));
  };
  app.setNotFoundHandler(unmatched);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    // No route, but the framework failed first (a body on a method no route has, e.g. QUERY
    // without a Content-Type): the method or the path is the answer, not the body.
    if (request.is404) {
      unmatched(request, reply);
      return;
    }
    const mapped = toProblem(error);
    if (mapped.problem.status >= 500) {
      // Internals go to the log, never to the client.
      request.log.error({ err: error }, 'request failed');
    }
    if (mapped.wwwAuthenticate) reply.header('WWW-Authenticate', mapped.wwwAuthenticate);
    if (mapped.headers) reply.headers(mapped.headers);
    sendProblem(reply, { ...mapped.problem, requestId: request.id });
  });

  return app;
}

function lowerCaseIds(values: Record<string, unknown> | undefined, schema: object | undefined): void {
  const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  if (!values || !properties) return;
  for (const [key, prop] of Object.entries(properties)) {
    if (isUuidSchema(prop) && typeof values[key] === 'string') values[key] = (values[key] as string).toLowerCase();
  }
}

/** A Node-level client error as problem+json, written on the socket (there is no request object). */
function writeClientError(err: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const detail = status === 431 ? 'the request headers are larger than the limit'
    : status === 408 ? 'the request did not arrive in time' : 'the request is not valid HTTP';
  logger.debug({ code: err.code, status }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ ...problem(status, detail), requestId: randomUUID() });
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

function sendProblem(reply: FastifyReply, body: Problem): void {
  void reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify({ ...body, requestId: body.requestId ?? reply.request.id }));
}

interface MappedProblem {
  readonly problem: Problem;
  readonly headers?: Readonly<Record<string, string>>;
  readonly wwwAuthenticate?: string;
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, "'")}"`;
}

export function toProblem(error: unknown): MappedProblem {
  if (error instanceof ProblemError) return { problem: error.problem, headers: error.headers };
  if (error instanceof InvalidTokenError) {
    return {
      problem: problem(401, `invalid access token: ${error.reason}`),
      wwwAuthenticate: `Bearer error="invalid_token", error_description=${quote(error.reason)}`,
    };
  }
  if (isGrpcError(error)) {
    const mapped = problemFromGrpc(error, 'a backend service');
    // A 401 from a service (a revoked token) asks for a new token, as the gateway's own 401s do.
    return mapped.status === 401 ? { problem: mapped, wwwAuthenticate: `Bearer error="invalid_token", error_description=${quote(mapped.detail ?? 'invalid token')}` } : { problem: mapped };
  }
  const fe = error as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    // An if/then rule repeats the failure of its `then` part: keep the one that names the field.
    const issues = fe.validation.filter((issue, _i, all) => issue.keyword !== 'if' || all.length === 1);
    const errors = issues.map((issue) => fieldError(fe.validationContext ?? 'body', issue));
    return { problem: problem(400, errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors }) };
  }
  if (fe.code === 'FST_ERR_HANDLER_TIMEOUT') return { problem: problem(504, 'the request did not complete within the deadline') };
  if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return { problem: problem(400, 'body is not valid JSON', { errors: [{ field: 'body', message: 'is not valid JSON' }] }) };
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { problem: problem(413, 'request body is larger than the limit') };
  const status = fe.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors (415, empty body, bad content length...): their messages carry no internals.
    return { problem: problem(status, fe.message) };
  }
  return { problem: problem(500, 'unexpected error; see the gateway log for this request id') };
}

interface ValidationIssue {
  readonly instancePath?: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
  readonly parentSchema?: Readonly<Record<string, unknown>>;
}

/** ajv's message, except that a regular expression is no explanation for a client. */
function issueMessage(issue: ValidationIssue): string {
  if (issue.keyword === 'pattern') {
    const explained = issue.parentSchema?.[PATTERN_MESSAGE];
    return typeof explained === 'string' ? explained : 'has a format or characters that are not allowed';
  }
  return issue.message ?? 'is invalid';
}

function fieldError(context: string, issue: ValidationIssue): FieldError {
  if (context === 'headers') {
    const params = issue.params ?? {};
    const name = issue.keyword === 'required' && typeof params.missingProperty === 'string'
      ? params.missingProperty : (issue.instancePath ?? '').split('/').filter(Boolean)[0] ?? '';
    const header = `${headerName(name)} header`;
    return { field: header, message: issue.keyword === 'required' ? 'is required' : issueMessage(issue) };
  }
  const base = context === 'querystring' ? 'query' : context;
  let path = (issue.instancePath ?? '').split('/').filter(Boolean).join('.');
  const params = issue.params ?? {};
  if (issue.keyword === 'required' && typeof params.missingProperty === 'string') {
    path = [path, params.missingProperty].filter(Boolean).join('.');
    return { field: path, message: 'is required' };
  }
  if (issue.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    path = [path, params.additionalProperty].filter(Boolean).join('.');
    return { field: path, message: 'is not allowed' };
  }
  return { field: path || base, message: issueMessage(issue) };
}
