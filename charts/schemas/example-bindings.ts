import type { PlatformBindings } from '../bindings-chart';

/**
 * Deploy-time values of the shape AWS gives them, for validating and linting the bindings chart
 * offline as Flux applies it, its variables substituted (tests and schema generation only; CDK
 * writes the real values into the platform-bindings ConfigMap).
 */
export const EXAMPLE_BINDINGS: PlatformBindings = {
  databaseWriterHost: 'platform-example-db.c0ffee00example.us-east-1.rds.amazonaws.com',
  databaseReaderHosts: [
    'platform-example-db-replica-1.c0ffee00example.us-east-1.rds.amazonaws.com',
    'platform-example-db-replica-2.c0ffee00example.us-east-1.rds.amazonaws.com',
  ],
  cacheHost: 'master.platform-example-redis.abcdef.use1.cache.amazonaws.com',
  kafkaBootstrapBrokers: 'b-1.platformexamplekafka.abc123.c2.kafka.us-east-1.amazonaws.com:9096,b-2.platformexamplekafka.abc123.c2.kafka.us-east-1.amazonaws.com:9096',
  apiGatewayTargetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/platf-ApiGa-EXAMPLE/0123456789abcdef',
  dmzSecurityGroupId: 'sg-0123456789abcdef0',
};
