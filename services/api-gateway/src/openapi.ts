/**
 * Builds the OpenAPI 3.1 document from ROUTES (the same definitions Fastify registers), so the
 * served document, the checked-in services/api-gateway/openapi.json and the running routes agree.
 * Output is deterministic (routes in declaration order, statuses ascending).
 */
import { headerName } from './headers';
import { Problem } from './schemas';
import type { RouteDefinition } from './routes';

export const OPENAPI_INFO = {
  title: 'platform public API',
  version: '1.0.0',
  description: 'Served by api-gateway. Request bodies are UTF-8 JSON (application/json, no other charset). '
    + 'Errors are RFC 9457 application/problem+json; a known path with another method is 405 with Allow. '
    + 'Responses carry RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset and RateLimit-Policy; a 429 carries Retry-After.',
} as const;

const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': { description: 'Requests allowed in the current window.', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left in the current window.', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the window resets.', schema: { type: 'integer' } },
  'RateLimit-Policy': { description: 'The policy, `<limit>;w=<window seconds>`.', schema: { type: 'string' } },
  'X-Request-Id': { description: 'The request id (the client\'s if well-formed, else generated).', schema: { type: 'string' } },
} as const;

const PROBLEM_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Malformed request: a body that is not UTF-8 JSON (invalid UTF-8 or lone surrogates included), shorter than its Content-Length, or a field failing validation (named in `errors`).',
  401: 'Missing, malformed, expired or otherwise invalid access token.',
  403: 'The caller is not allowed to do this.',
  404: 'No such resource.',
  408: 'The request body did not arrive in time.',
  409: 'Conflicts with the current state (e.g. email already registered).',
  413: 'Request body larger than the limit.',
  415: 'Content-Type is not application/json, or names a charset other than UTF-8.',
  429: 'Rate limit exceeded; see Retry-After.',
  500: 'Unexpected error in the gateway.',
  502: 'A backend service failed.',
  503: 'A backend service is unavailable.',
  504: 'A backend service did not answer within the request deadline.',
};

/** The problem statuses of a route: its own plus those every route of its kind can answer. */
export function problemStatuses(route: RouteDefinition): number[] {
  const statuses = new Set<number>([...route.problems, 429, 500, 502, 503, 504]);
  if (route.body || route.params || route.query || route.headers) statuses.add(400);
  if (route.auth === 'bearer') statuses.add(401);
  if (route.body) {
    statuses.add(408);
    statuses.add(413);
    statuses.add(415);
  }
  return [...statuses].sort((a, b) => a - b);
}

function openApiParameters(route: RouteDefinition): object[] {
  const out: object[] = [];
  const add = (where: 'path' | 'query' | 'header', schema: object | undefined) => {
    const s = schema as { properties?: Record<string, object>; required?: readonly string[] } | undefined;
    for (const [name, prop] of Object.entries(s?.properties ?? {})) {
      // Header names are case-insensitive; documented as clients write them.
      const shown = where === 'header' ? headerName(name) : name;
      out.push({ name: shown, in: where, required: where === 'path' || (s?.required ?? []).includes(name), schema: prop });
    }
  };
  add('path', route.params);
  add('query', route.query);
  add('header', route.headers);
  return out;
}

export function buildOpenApiDocument(routes: readonly RouteDefinition[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const responses: Record<string, unknown> = {};
    for (const status of Object.keys(route.responses).map(Number).sort((a, b) => a - b)) {
      const doc = route.responses[status]!;
      responses[String(status)] = {
        description: doc.description,
        headers: RATE_LIMIT_HEADERS,
        ...(doc.schema ? { content: { 'application/json': { schema: doc.schema } } } : {}),
        ...(doc.links ? { links: doc.links } : {}),
      };
    }
    for (const status of problemStatuses(route)) {
      responses[String(status)] = {
        description: PROBLEM_DESCRIPTIONS[status] ?? 'Error.',
        ...(status === 429 ? { headers: { ...RATE_LIMIT_HEADERS, 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } } } } : {}),
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    const parameters = openApiParameters(route);
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      ...(route.auth === 'bearer' ? { security: [{ bearerAuth: [] }] } : { security: [] }),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: OPENAPI_INFO,
    paths,
    components: {
      schemas: { Problem },
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

/** The document as written to services/api-gateway/openapi.json (2-space indent, final newline). */
export function renderOpenApiDocument(routes: readonly RouteDefinition[]): string {
  return `${JSON.stringify(buildOpenApiDocument(routes), null, 2)}\n`;
}
