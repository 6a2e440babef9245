import { actionMatches, decide, resourceMatches } from '../../../services/auth-service/src/rbac';
import type { Policy } from '../../../services/auth-service/src/rbac';

// The policy the migration seeds (services/auth-service/migrations).
const policy: Policy = {
  actions: new Set(['users:read', 'users:update', 'users:list', 'users:delete', 'orders:create', 'orders:read', 'orders:list', 'orders:cancel', 'auth:rotate-keys']),
  rolePermissions: new Map([
    ['admin', [{ action: '*', resource: '**' }]],
    ['customer', [
      { action: 'users:read', resource: 'users/{self}' },
      { action: 'users:update', resource: 'users/{self}' },
      { action: 'orders:*', resource: 'users/{self}/orders' },
      { action: 'orders:*', resource: 'users/{self}/orders/*' },
    ]],
  ]),
};

const ME = '3f1c0f5e-1111-4aaa-8bbb-000000000001';
const OTHER = '3f1c0f5e-2222-4aaa-8bbb-000000000002';

describe('decide', () => {
  it.each([
    // roles, action, resource, allowed
    [['customer'], 'users:read', `users/${ME}`, true],
    [['customer'], 'users:update', `users/${ME}`, true],
    [['customer'], 'users:read', `users/${OTHER}`, false],
    [['customer'], 'users:update', `users/${OTHER}`, false],
    [['customer'], 'users:list', 'users', false],
    [['customer'], 'users:delete', `users/${ME}`, false],
    [['customer'], 'orders:create', `users/${ME}/orders`, true],
    [['customer'], 'orders:read', `users/${ME}/orders/o-42`, true],
    [['customer'], 'orders:read', `users/${OTHER}/orders/o-42`, false],
    [['customer'], 'orders:read', `users/${ME}/orders/o-42/items/1`, false],
    [['customer'], 'auth:rotate-keys', 'auth/signing-keys', false],
    [['admin'], 'users:read', `users/${OTHER}`, true],
    [['admin'], 'users:list', 'users', true],
    [['admin'], 'auth:rotate-keys', 'auth/signing-keys', true],
    [['admin', 'customer'], 'users:delete', `users/${ME}`, true],
    [[], 'users:read', `users/${ME}`, false],
    [['ghost-role'], 'users:read', `users/${ME}`, false],
  ])('%j %s %s -> %s', (roles, action, resource, allowed) => {
    expect(decide(policy, ME, roles, action, resource).allowed).toBe(allowed);
  });

  it('denies unknown actions even for admin, with a reason and without throwing', () => {
    for (const action of ['users:explode', 'launch-missiles', '', '*', 'users:*', 'USERS:READ']) {
      const d = decide(policy, ME, ['admin'], action, `users/${ME}`);
      expect(d).toEqual({ allowed: false, reason: `unknown action "${action}"` });
    }
  });

  it('denies malformed resources, including ones that look like patterns', () => {
    for (const resource of ['', 'users/', '/users', 'users//x', 'users/*', 'users/{self}', 'users/a b', 'x'.repeat(600)]) {
      expect(decide(policy, ME, ['admin'], 'users:read', resource)).toEqual({ allowed: false, reason: 'resource is malformed' });
    }
  });

  it('says which role granted the action', () => {
    expect(decide(policy, ME, ['customer'], 'users:read', `users/${ME}`).reason).toBe('role customer grants users:read on users/{self}');
    expect(decide(policy, ME, ['customer'], 'users:read', `users/${OTHER}`).reason).toMatch(/no role of \[customer\] grants users:read/);
    expect(decide(policy, ME, [], 'users:read', `users/${ME}`).reason).toBe('subject has no roles');
  });

  it('never lets {self} match for an empty subject', () => {
    expect(resourceMatches('users/{self}', 'users/x', '')).toBe(false);
  });
});

describe('pattern matching', () => {
  it.each([
    ['*', 'users:read', true],
    ['users:*', 'users:read', true],
    ['users:*', 'usersx:read', false],
    ['users:read', 'users:read', true],
    ['users:read', 'users:update', false],
  ])('action %s vs %s -> %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });

  it.each([
    ['**', 'anything/at/all', true],
    ['users/**', 'users', true],
    ['users/**', 'users/a/b', true],
    ['users/*', 'users', false],
    ['users/*', 'users/a', true],
    ['users/*', 'users/a/b', false],
    ['users/{self}', `users/${ME}`, true],
    ['users/{self}/orders/*', `users/${ME}/orders/1`, true],
    ['users/{self}/orders/*', `users/${OTHER}/orders/1`, false],
  ])('resource %s vs %s -> %s', (pattern, resource, expected) => {
    expect(resourceMatches(pattern, resource, ME)).toBe(expected);
  });
});
