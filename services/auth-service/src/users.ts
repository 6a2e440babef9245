/** user-service over gRPC mTLS: the profile half of an account (Register and its compensation, ChangeEmail). */
import { UserServiceClient } from '../../proto/gen/user/v1/user';
import { createClient, createClientCredentials, ServiceError, Status, unary } from '../../shared/src';
import type { TlsFiles } from '../../shared/src';
import type { UserDirectory } from './accounts';

const CALL_TIMEOUT_MS = 5_000;

export interface UserServiceDirectory extends UserDirectory {
  close(): void;
}

export async function connectUserService(target: string, tls: TlsFiles): Promise<UserServiceDirectory> {
  // Pin the callee's identity: only user-service's certificate may receive new accounts.
  const { credentials, certificates } = await createClientCredentials(tls, 'user-service');
  const client = createClient(UserServiceClient, target, credentials);
  return {
    async createUser(email, name) {
      const res = await unary(client, 'createUser', { email, name }, { timeoutMs: CALL_TIMEOUT_MS }).catch((err: unknown) => {
        throw translate(err);
      });
      if (!res.user?.id) throw new Error('user-service CreateUser returned no user id');
      return res.user.id;
    },
    async deleteUser(id) {
      await unary(client, 'deleteUser', { id }, { timeoutMs: CALL_TIMEOUT_MS }).catch((err: unknown) => {
        throw translate(err);
      });
    },
    async setEmail(id, email) {
      await unary(client, 'updateUser', { id, email }, { timeoutMs: CALL_TIMEOUT_MS }).catch((err: unknown) => {
        throw translate(err);
      });
    },
    close() {
      client.close();
      certificates.close();
    },
  };
}

/**
 * The caller should see what went wrong with its input (INVALID_ARGUMENT, ALREADY_EXISTS pass
 * through) and that a dependency is down (UNAVAILABLE), never user-service's internals.
 */
function translate(err: unknown): Error {
  const e = err as { code?: unknown; details?: unknown };
  switch (e?.code) {
    case Status.INVALID_ARGUMENT:
    case Status.ALREADY_EXISTS:
    case Status.NOT_FOUND:
    case Status.PERMISSION_DENIED:
      return new ServiceError(e.code, String(e.details ?? 'rejected by user-service'));
    case Status.UNAVAILABLE:
    case Status.DEADLINE_EXCEEDED:
    case Status.RESOURCE_EXHAUSTED:
      return new ServiceError(Status.UNAVAILABLE, 'user-service is unavailable, try again');
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}
