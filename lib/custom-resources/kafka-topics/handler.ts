/**
 * Lambda handler of the `Custom::KafkaTopics` resource (behind aws-cdk-lib's custom-resource
 * Provider, which reports the outcome to CloudFormation):
 *  - Create/Update: reads the SCRAM credentials from Secrets Manager, asks MSK for the SASL/SCRAM
 *    bootstrap brokers (MSK exposes them as no CloudFormation attribute), connects over TLS with
 *    SCRAM-SHA-512 and reconciles the topics (reconcile.ts).
 *  - Delete: changes nothing. Topics hold the services' events; a stack delete (or a
 *    replacement of this resource) must not lose them. Remove a topic by hand when it is meant.
 * Bundled by bundle.mjs; the AWS SDK v3 comes from the Lambda runtime.
 */
import { GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import { Admin } from '@platformatic/kafka';
import { readCredentialsSecret } from '../credentials-secret';
import { reconcileTopics } from './reconcile';
import { parseTopicProperties, TopicSpecError } from './topics';

interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
}

interface CustomResourceResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

function stringProperty(props: Record<string, unknown>, field: string): string {
  const value = props[field];
  if (typeof value !== 'string' || value === '') throw new TopicSpecError(`${field} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

async function scramCredentials(secretArn: string): Promise<{ username: string; password: string }> {
  const { username, password } = await readCredentialsSecret(secretArn);
  if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
    throw new Error(`secret ${secretArn} lacks "username" or "password"`);
  }
  return { username, password };
}

/** The SASL/SCRAM brokers (what this function and the services use) and the IAM ones (the analytics job's). */
async function bootstrapBrokerLists(clusterArn: string): Promise<{ scram: string[]; iam: string[] }> {
  const brokers = await new KafkaClient({}).send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
  const scram = brokers.BootstrapBrokerStringSaslScram?.split(',').filter(Boolean) ?? [];
  if (scram.length === 0) throw new Error(`MSK cluster ${clusterArn} has no SASL/SCRAM bootstrap brokers (SCRAM not enabled, or the cluster is not ACTIVE yet)`);
  return { scram, iam: brokers.BootstrapBrokerStringSaslIam?.split(',').filter(Boolean) ?? [] };
}

export async function handler(event: CustomResourceEvent): Promise<CustomResourceResponse> {
  const props = event.ResourceProperties;
  const clusterArn = stringProperty(props, 'ClusterArn');
  // One physical id per cluster: a new cluster is a new resource, and the old one's Delete is a no-op.
  const physicalId = `${clusterArn}/topics`;
  if (event.RequestType === 'Delete') {
    console.log(`delete of ${event.PhysicalResourceId}: topics are kept (data must outlive the stack)`);
    return { PhysicalResourceId: event.PhysicalResourceId ?? physicalId };
  }
  const secretArn = stringProperty(props, 'SecretArn');
  const topics = parseTopicProperties(props.Topics);

  const [credentials, brokerLists] = await Promise.all([scramCredentials(secretArn), bootstrapBrokerLists(clusterArn)]);
  const bootstrapBrokers = brokerLists.scram;
  const admin = new Admin({
    clientId: 'platform-kafka-topics',
    bootstrapBrokers,
    // MSK's broker certificates chain to Amazon Trust Services, which Node trusts by default.
    tls: {},
    sasl: { mechanism: 'SCRAM-SHA-512', username: credentials.username, password: credentials.password },
    connectTimeout: 10_000,
    requestTimeout: 30_000,
  });
  try {
    const result = await reconcileTopics(admin, topics);
    console.log(JSON.stringify({ event: event.RequestType, clusterArn, ...result }));
    return {
      PhysicalResourceId: physicalId,
      Data: {
        Topics: topics.map((t) => t.name).join(','),
        // MSK has no CloudFormation attribute for these; the charts' bindings read them from here.
        BootstrapBrokers: bootstrapBrokers.join(','),
        BootstrapBrokersSaslIam: brokerLists.iam.join(','),
        Created: result.created.join(','),
        PartitionsIncreased: result.partitionsIncreased.map((p) => `${p.topic}:${p.from}->${p.to}`).join(','),
        ConfigsUpdated: result.configsUpdated.map((c) => c.topic).join(','),
      },
    };
  } finally {
    await admin.close();
  }
}
