/**
 * Role-based authorization. The decision itself (`decide`) is a pure function of the policy,
 * the subject's roles, the action and the resource, so the table of decisions is unit-tested
 * without a database; the stores below load the policy and roles from PostgreSQL.
 */

export interface Permission {
  /** An action (`users:read`), every action of a kind (`orders:*`) or every action (`*`). */
  readonly action: string;
  /** `/`-separated segments: `*` one segment, a final `**` any rest, `{self}` the subject's id. */
  readonly resource: string;
}

export interface Policy {
  /** Known actions; any other action is denied, whatever the roles say. */
  readonly actions: ReadonlySet<string>;
  readonly rolePermissions: ReadonlyMap<string, readonly Permission[]>;
}

export interface Decision {
  readonly allowed: boolean;
  readonly reason: string;
}

const ACTION_RE = /^[a-z][a-z-]*:[a-z][a-z-]*$/;
// Unreserved URL characters plus ':' and '@'; no wildcards or braces, so a resource can never
// be mistaken for a pattern.
const SEGMENT_RE = /^[A-Za-z0-9._~:@-]+$/;
const MAX_RESOURCE_LENGTH = 512;

export function isValidAction(action: string): boolean {
  return ACTION_RE.test(action);
}

export function isValidResource(resource: string): boolean {
  return resource.length > 0 && resource.length <= MAX_RESOURCE_LENGTH && resource.split('/').every((s) => SEGMENT_RE.test(s));
}

export function actionMatches(pattern: string, action: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith(':*')) return action.startsWith(pattern.slice(0, -1));
  return pattern === action;
}

export function resourceMatches(pattern: string, resource: string, subject: string): boolean {
  const want = pattern.split('/');
  const have = resource.split('/');
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    if (w === '**' && i === want.length - 1) return true;
    if (i >= have.length) return false;
    if (w === '*') continue;
    if (w === '{self}') {
      if (subject === '' || have[i] !== subject) return false;
      continue;
    }
    if (w !== have[i]) return false;
  }
  return want.length === have.length;
}

/** Never throws: malformed or unknown input is a denial with a reason. */
export function decide(policy: Policy, subject: string, roles: readonly string[], action: string, resource: string): Decision {
  if (!isValidAction(action) || !policy.actions.has(action)) return { allowed: false, reason: `unknown action "${action}"` };
  if (!isValidResource(resource)) return { allowed: false, reason: 'resource is malformed' };
  if (roles.length === 0) return { allowed: false, reason: 'subject has no roles' };
  for (const role of [...roles].sort()) {
    for (const perm of policy.rolePermissions.get(role) ?? []) {
      if (actionMatches(perm.action, action) && resourceMatches(perm.resource, resource, subject)) {
        return { allowed: true, reason: `role ${role} grants ${perm.action} on ${perm.resource}` };
      }
    }
  }
  return { allowed: false, reason: `no role of [${roles.join(', ')}] grants ${action} on ${resource}` };
}
