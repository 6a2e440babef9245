// The OpenAPI document is generated from the same route definitions Fastify registers; this
// test keeps the checked-in copy (services/api-gateway/openapi.json) equal to it and checks
// that every registered route is documented with its responses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocument, problemStatuses, renderOpenApiDocument } from '../../../services/api-gateway/src/openapi';
import { ROUTES, fastifyPath } from '../../../services/api-gateway/src/routes';
import { buildTestApp } from './helpers';

const CHECKED_IN = join(__dirname, '../../../services/api-gateway/openapi.json');

type Operation = { operationId: string; responses: Record<string, { content?: Record<string, unknown> }>; security: unknown[] };

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument(ROUTES) as { openapi: string; paths: Record<string, Record<string, Operation>> };

  it('equals the checked-in services/api-gateway/openapi.json (regenerate: npx tsx services/api-gateway/scripts/write-openapi.ts)', () => {
    expect(readFileSync(CHECKED_IN, 'utf8')).toBe(renderOpenApiDocument(ROUTES));
  });

  it('documents exactly the routes the server registers', async () => {
    const t = await buildTestApp();
    try {
      const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${fastifyPath(path)}`));
      expect([...t.app.publicRoutes].sort()).toEqual(documented.sort());
    } finally {
      await t.close();
    }
  });

  it('includes the decided public API', () => {
    const ops = Object.entries(doc.paths).flatMap(([path, o]) => Object.keys(o).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops.sort()).toEqual([
      'GET /.well-known/jwks.json', 'GET /openapi.json', 'GET /v1/users', 'GET /v1/users/me', 'GET /v1/users/{id}',
      'PATCH /v1/users/me', 'PATCH /v1/users/{id}', 'PUT /v1/users/me/email', 'POST /v1/admin/signing-keys:rotate', 'POST /v1/auth/login', 'POST /v1/auth/logout',
      'POST /v1/auth/refresh', 'POST /v1/auth/signup',
      'POST /v1/orders', 'GET /v1/orders', 'GET /v1/orders/{id}', 'POST /v1/orders/{id}:cancel',
      'POST /v1/payments', 'GET /v1/payments/{id}', 'POST /v1/payments/{id}:refund',
    ].sort());
  });

  it('documents the Idempotency-Key header as required on POST /v1/payments', () => {
    const op = doc.paths['/v1/payments']!.post as unknown as { parameters: { name: string; in: string; required: boolean }[] };
    expect(op.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }));
  });

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s has a success response and problem responses', (_name, route) => {
    const op = doc.paths[route.path]![route.method.toLowerCase()]!;
    const statuses = Object.keys(op.responses).map(Number);
    expect(statuses.some((s) => s >= 200 && s < 300)).toBe(true);
    for (const s of problemStatuses(route)) {
      expect(op.responses[String(s)]?.content).toHaveProperty(['application/problem+json']);
    }
    expect(statuses).toEqual(expect.arrayContaining([429, 503]));
    if (route.auth === 'bearer') {
      expect(statuses).toContain(401);
      expect(op.security).toEqual([{ bearerAuth: [] }]);
    }
    if (route.authorize) expect(statuses).toContain(403);
    if (route.body) expect(statuses).toEqual(expect.arrayContaining([400, 413]));
  });

  it('has unique operation ids', () => {
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
