/**
 * The Fastify application: hooks for request id, deadline, authentication, rate limiting and
 * authorization around the handlers in routes.ts, and the one error handler that turns every
 * failure into application/problem+json.
 */
import { randomUUID } from 'node:crypto';
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
import { PATTERN_MESSAGE } from './schemas';
import { ROUTES, fastifyPath } from './routes';
import type { Backends, Principal, RouteDefinition } from './routes';

export interface AppOptions {
  readonly logger: Logger;
  readonly backends: Backends;
  readonly verifier: JwtVerifier;
  readonly jwks: JwksCache;
  readonly decisions: DecisionCache;
  readonly limiter: RateLimiter;
  readonly policies: { readonly anonymous: RateLimitPolicy; readonly authenticated: RateLimitPolicy };
  readonly requestTimeoutMs: number;
  readonly bodyLimitBytes: number;
  readonly trustedProxyCidrs: readonly string[];
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly openApiDocument: () => string;
  /** HTTPS on the public port (HTTP_TLS); plain HTTP when absent. */
  readonly https?: KeyPair;
}

interface GatewayRequestState {
  deadline: Date;
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
    // Backstop only: gRPC deadlines normally end a slow request first (with 504).
    handlerTimeout: options.requestTimeoutMs + 500,
    // Time allowed to receive a whole request (slow-loris); a client gets the same budget as we do.
    requestTimeout: options.requestTimeoutMs * 2,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    trustProxy: options.trustedProxyCidrs.length > 0 ? options.trustedProxyCidrs.map((c) => {
      const { address, prefix } = parseCidr(c)!;
      return `${address}/${prefix}`;
    }) : false,
    return503OnClosing: true,
    // HEAD would be an undocumented twin of every GET.
    exposeHeadRoutes: false,
    frameworkErrors: (error, _request, reply) => {
      // Router-level failures (malformed URL encoding, too-long params): the client's fault.
      sendProblem(reply, problem(400, error.message));
    },
  });

  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));

  app.decorateRequest('gateway', null as unknown as GatewayRequestState);
  app.decorate('publicRoutes', [] as string[]);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) app.publicRoutes.push(`${method} ${route.url}`);
  });

  app.addHook('onRequest', async (request, reply) => {
    request.gateway = { deadline: new Date(Date.now() + options.requestTimeoutMs), principal: undefined };
    reply.header('X-Request-Id', request.id);
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

  app.setNotFoundHandler((request, reply) => {
    sendProblem(reply, problem(404, `no route ${request.method} ${request.url.split('?')[0]}`));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
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
  if (isGrpcError(error)) return { problem: problemFromGrpc(error, 'a backend service') };
  const fe = error as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    const errors = fe.validation.map((issue) => fieldError(fe.validationContext ?? 'body', issue));
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
