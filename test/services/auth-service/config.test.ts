import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAuthConfig } from '../../../services/auth-service/src/config';

const dir = mkdtempSync(join(tmpdir(), 'auth-config-'));
const file = join(dir, 'f');
writeFileSync(file, 'x');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = {
  TLS_CERT_FILE: file, TLS_KEY_FILE: file, TLS_CA_FILE: file,
  DATABASE_HOST: 'db', DATABASE_NAME: 'auth', DATABASE_USER: 'auth', DATABASE_PASSWORD_FILE: file, DATABASE_CA_FILE: file,
  REDIS_HOST: 'redis', JWT_ISSUER: 'https://auth', JWT_AUDIENCE: 'api',
  USER_SERVICE_ADDR: 'dns:///user-service.user-service.svc.cluster.local:8002',
  AUTH_KEY_ENCRYPTION_KEY_FILE: file,
};

describe('loadAuthConfig', () => {
  it('defaults the peers to api-gateway and the token lifetimes to 10 min / 30 days / JWKS 5 min', () => {
    const cfg = loadAuthConfig(env);
    expect(cfg.GRPC_ALLOWED_PEERS).toEqual(['api-gateway']);
    expect([cfg.ACCESS_TOKEN_TTL_SECONDS, cfg.REFRESH_TOKEN_TTL_SECONDS, cfg.JWKS_MAX_AGE_SECONDS]).toEqual([600, 2_592_000, 300]);
  });

  it.each([
    ['JWT_ISSUER', { JWT_ISSUER: undefined }, /JWT_ISSUER is required/],
    ['USER_SERVICE_ADDR', { USER_SERVICE_ADDR: 'user-service' }, /USER_SERVICE_ADDR must be host:port/],
    ['AUTH_KEY_ENCRYPTION_KEY_FILE', { AUTH_KEY_ENCRYPTION_KEY_FILE: join(dir, 'missing') }, /AUTH_KEY_ENCRYPTION_KEY_FILE names a file that does not exist/],
    ['ACCESS_TOKEN_TTL_SECONDS', { ACCESS_TOKEN_TTL_SECONDS: '0' }, /ACCESS_TOKEN_TTL_SECONDS must be > 0/],
    ['ACCESS_TOKEN_TTL_SECONDS vs refresh', { ACCESS_TOKEN_TTL_SECONDS: '100', REFRESH_TOKEN_TTL_SECONDS: '50' }, /ACCESS_TOKEN_TTL_SECONDS must be shorter than REFRESH_TOKEN_TTL_SECONDS/],
  ])('names %s when it is wrong', (_name, override, message) => {
    expect(() => loadAuthConfig({ ...env, ...override })).toThrow(message);
  });
});
