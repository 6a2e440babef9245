// Real servers on loopback: `npm run dev` runs the services against them, and the integration
// tests (through test/harness) start them too (test/harness/README.md).
export type {
  TestCa, IssueOptions, IssuedCertificate, CreateTestCaOptions, ServerOptions,
  PostgresServer, PostgresOptions, DatabaseAccess, MasterAccess, RedisServer, KafkaServer, KafkaServerOptions, KafkaTopic,
} from './types';
export { createTestCa, issueServiceCertificate } from './ca';
export { startPostgres } from './postgres';
export { startRedis } from './redis';
export { startKafka, KAFKA_VERSION } from './kafka';
export { freePort, HarnessError } from './process';
export { startStripeMock, STRIPE_MOCK_VERSION, type StripeMockServer, type StripeMockOptions } from './stripe-mock';
