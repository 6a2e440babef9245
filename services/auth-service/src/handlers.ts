/**
 * The AuthService RPCs: request fields in, domain calls, response messages out.
 */
import type { AuthServiceService } from '../../proto/gen/auth/v1/auth';
import type { CallContext, ServiceHandlers } from '../../shared/src';
import type { Accounts } from './accounts';
import type { Authorizer } from './authorization';
import type { Clock } from './clock';
import { ServiceError, Status } from './errors';
import type { SigningKeyStore } from './keys';

export const ROTATE_ACTION = 'auth:rotate-keys';
export const SIGNING_KEYS_RESOURCE = 'auth/signing-keys';

export interface HandlerDeps {
  readonly accounts: Accounts;
  readonly authorizer: Authorizer;
  readonly keys: SigningKeyStore;
  readonly clock: Clock;
  readonly jwksMaxAgeSeconds: number;
}

export function authHandlers(deps: HandlerDeps): ServiceHandlers<typeof AuthServiceService> {
  const { accounts, authorizer, keys, clock } = deps;
  return {
    async register(req) {
      return { userId: await accounts.register(req.email, req.password, req.name) };
    },
    async login(req) {
      return { tokens: await accounts.login(req.email, req.password) };
    },
    async refresh(req) {
      return { tokens: await accounts.refresh(req.refreshToken) };
    },
    async logout(req) {
      await accounts.logout(req.refreshToken, req.accessTokenId, req.accessTokenExpiresAt);
      return {};
    },
    async getJwks() {
      const ring = await keys.current();
      return { jwksJson: JSON.stringify(ring.jwks(clock())), maxAgeSeconds: deps.jwksMaxAgeSeconds };
    },
    async authorize(req) {
      const result = await authorizer.authorize(req.subject, req.action, req.resource, req.tokenId);
      return { allowed: result.allowed, reason: result.reason, roles: [...result.roles], ttlSeconds: result.ttlSeconds };
    },
    async changeEmail(req, ctx: CallContext) {
      if (!ctx.subject) throw new ServiceError(Status.UNAUTHENTICATED, 'x-subject: an email change needs the calling user');
      return { email: await accounts.changeEmail(ctx.subject.toLowerCase(), req.newEmail, req.currentPassword) };
    },
    async rotateSigningKey(_req, ctx: CallContext) {
      // The gateway authorizes admin routes too; checking here again keeps a mis-routed call
      // (or another allowed peer) from rotating keys on its own.
      if (!ctx.subject) throw new ServiceError(Status.PERMISSION_DENIED, `x-subject: ${ROTATE_ACTION} needs the calling user`);
      const decision = await authorizer.authorize(ctx.subject, ROTATE_ACTION, SIGNING_KEYS_RESOURCE, '');
      if (!decision.allowed) throw new ServiceError(Status.PERMISSION_DENIED, `${ROTATE_ACTION} denied: ${decision.reason}`);
      const rotation = await keys.rotate();
      ctx.logger.info({ nextKid: rotation.kid, activatesAt: rotation.activatesAt.toISOString(), by: ctx.subject }, 'signing key rotation started');
      return { nextKid: rotation.kid, activatesAt: rotation.activatesAt.toISOString() };
    },
  };
}
