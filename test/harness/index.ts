// Real servers on loopback for integration tests (README.md beside this file).
export type {
  TestCa, IssueOptions, IssuedCertificate, CreateTestCaOptions, ServerOptions,
  PostgresServer, PostgresOptions, DatabaseAccess, MasterAccess, RedisServer, KafkaServer, KafkaServerOptions, KafkaTopic,
} from './types';
export { createTestCa, issueServiceCertificate } from './ca';
export { startPostgres } from './postgres';
export { startRedis } from './redis';
export { startKafka, KAFKA_VERSION } from './kafka';
export { HarnessError } from './process';
export { startStripeMock, STRIPE_MOCK_VERSION, type StripeMockServer, type StripeMockOptions } from './stripe-mock';
export { startVault, VAULT_VERSION, type VaultServer, type VaultServerOptions } from './vault';
export { startKubeApiServer, KUBERNETES_VERSION, SERVICE_ACCOUNT_ISSUER, type KubeApiServer, type KubeApiServerOptions } from './kube-apiserver';
