import { Status, ServiceError } from '../../shared/src/grpc-server';

export { ServiceError, Status, invalidArgument } from '../../shared/src/grpc-server';

/** The one message of every failed login or refresh, so callers cannot probe for accounts. */
export const unauthenticated = (message: string) => new ServiceError(Status.UNAUTHENTICATED, message);
