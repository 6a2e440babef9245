import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, commonEnv, databaseEnv, grpcServerEnv, loadConfig, redisEnv, serviceSpec } from '../../../services/shared/src';
import { loadPlatformSpec } from '../../../lib/spec';

const dir = mkdtempSync(join(tmpdir(), 'config-test-'));
const file = join(dir, 'secret');
writeFileSync(file, 'x');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const schema = z.object({ ...commonEnv('user-service'), ...grpcServerEnv('user-service', ['api-gateway']), ...databaseEnv, ...redisEnv });
const good = {
  TLS_CERT_FILE: file, TLS_KEY_FILE: file, TLS_CA_FILE: file,
  DATABASE_HOST: 'db.example.internal', DATABASE_NAME: 'users', DATABASE_USER: 'user_service',
  DATABASE_PASSWORD_FILE: file, DATABASE_CA_FILE: file,
  REDIS_HOST: 'redis.example.internal',
};

function problem(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  test('applies the spec defaults for ports and the documented defaults', () => {
    const spec = loadPlatformSpec();
    const svc = spec.services.find((s) => s.name === 'user-service')!;
    const config = loadConfig(schema, good);
    expect(config.GRPC_PORT).toBe(svc.port);
    expect(config.HEALTH_PORT).toBe(svc.healthPort);
    expect(config.DATABASE_PORT).toBe(spec.dataTier.pgbouncer.port);
    expect(config.REDIS_PORT).toBe(spec.dataTier.redis.port);
    expect(config.REDIS_TLS).toBe(true);
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.SHUTDOWN_GRACE_MS).toBe(20000);
    expect(config.ENDPOINT_DRAIN_MS).toBe(0);
    expect(config.GRPC_ALLOWED_PEERS).toEqual(['api-gateway']);
  });

  test('parses given values', () => {
    const config = loadConfig(schema, { ...good, GRPC_PORT: '7000', GRPC_ALLOWED_PEERS: ' api-gateway , auth-service ', REDIS_TLS: 'false', LOG_LEVEL: 'debug' });
    expect(config.GRPC_PORT).toBe(7000);
    expect(config.GRPC_ALLOWED_PEERS).toEqual(['api-gateway', 'auth-service']);
    expect(config.REDIS_TLS).toBe(false);
    expect(config.LOG_LEVEL).toBe('debug');
  });

  test.each([
    ['DATABASE_HOST', undefined, /^invalid configuration: DATABASE_HOST is required$/],
    ['DATABASE_HOST', '', /^invalid configuration: DATABASE_HOST is required$/],
    ['DATABASE_HOST', 'db host', /DATABASE_HOST must be a host name or IP address \(got "db host"\)/],
    ['GRPC_PORT', 'abc', /GRPC_PORT must be a port number \(got "abc"\)/],
    ['GRPC_PORT', '70000', /GRPC_PORT must be a port 1\.\.65535 \(got "70000"\)/],
    ['HEALTH_PORT', '80.5', /HEALTH_PORT must be an integer port number/],
    ['SHUTDOWN_GRACE_MS', '-1', /SHUTDOWN_GRACE_MS must be > 0/],
    ['ENDPOINT_DRAIN_MS', '-5', /ENDPOINT_DRAIN_MS must be >= 0/],
    ['ENDPOINT_DRAIN_MS', '2.5', /ENDPOINT_DRAIN_MS must be an integer/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
    ['REDIS_TLS', 'yes', /REDIS_TLS must be "true" or "false"/],
    ['GRPC_ALLOWED_PEERS', 'Api Gateway', /GRPC_ALLOWED_PEERS must list service names/],
    ['DATABASE_PASSWORD_FILE', '/nonexistent/password', /DATABASE_PASSWORD_FILE names a file that does not exist or is not readable \(\/nonexistent\/password\)/],
  ])('%s=%j is rejected naming the variable', (variable, value, message) => {
    const err = problem({ ...good, [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
  });

  test('a required allow-list without a default must be given', () => {
    const s = z.object(grpcServerEnv('order-service'));
    expect(() => loadConfig(s, { TLS_CERT_FILE: file, TLS_KEY_FILE: file, TLS_CA_FILE: file })).toThrow('GRPC_ALLOWED_PEERS is required');
  });

  test('serviceSpec rejects an unknown service', () => {
    expect(() => serviceSpec('no-such-service')).toThrow(/unknown service "no-such-service"/);
  });
});
