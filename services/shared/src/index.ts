/** The services' shared runtime (services/README.md). */
export * from './account-limits';
export * from './config';
export * from './logger';
export * from './metrics';
export * from './health';
export * from './tls';
export * from './grpc-server';
export * from './grpc-client';
export * from './postgres';
export * from './redis';
export * from './migrate';
export * from './lifecycle';
export * from './kafka';
export * from './outbox';
export * from './startup';
