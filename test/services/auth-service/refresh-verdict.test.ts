import { classifyRefresh, hashRefreshToken } from '../../../services/auth-service/src/refresh';
import type { RefreshTokenRow } from '../../../services/auth-service/src/refresh';

const NOW = new Date('2026-11-01T12:00:00Z');
const row = (over: Partial<RefreshTokenRow> = {}): RefreshTokenRow => ({
  id: 'a', family_id: 'f', user_id: 'u', expires_at: new Date(NOW.getTime() + 1000), used_at: null, revoked_at: null, ...over,
});

describe('classifyRefresh', () => {
  it.each([
    ['unknown token', undefined, 'unknown'],
    ['fresh token', row(), 'rotate'],
    ['spent token (reuse)', row({ used_at: NOW }), 'reused'],
    ['revoked family', row({ revoked_at: NOW }), 'revoked'],
    ['revoked beats reuse', row({ used_at: NOW, revoked_at: NOW }), 'revoked'],
    ['reuse beats expiry', row({ used_at: NOW, expires_at: NOW }), 'reused'],
    ['expired token', row({ expires_at: NOW }), 'expired'],
  ])('%s', (_name, r, verdict) => {
    expect(classifyRefresh(r, NOW)).toBe(verdict);
  });
});

it('stores refresh tokens as a SHA-256 digest only', () => {
  expect(hashRefreshToken('abc').toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
