/**
 * The CloudFormation resource types that hold data or keys: replacing or deleting one loses data
 * (or makes data unreadable), so `npm run check:replacements` refuses it unless the allow-list
 * names it (docs/review.md). The one list; add a type here and the guard covers it everywhere.
 * Configuration-only resources (parameter groups, subnet groups, security groups) are not here:
 * replacing them is an ordinary, if disruptive, update.
 */
export const STATEFUL_RESOURCE_TYPES: Readonly<Record<string, string>> = {
  'AWS::RDS::DBInstance': 'database instance (data, snapshots, endpoint)',
  'AWS::RDS::DBCluster': 'database cluster (data, snapshots, endpoint)',
  'AWS::ElastiCache::ReplicationGroup': 'Redis data and sessions',
  'AWS::MSK::Cluster': 'Kafka topics and offsets',
  'AWS::KMS::Key': 'encryption key: data encrypted under it becomes unreadable',
  'AWS::KMS::ReplicaKey': 'encryption key replica (Vault auto-unseal in the DR region)',
  'AWS::SecretsManager::Secret': 'secret values and their rotation history',
  'AWS::S3::Bucket': 'objects',
  'AWS::DynamoDB::Table': 'items',
  'AWS::DynamoDB::GlobalTable': 'items in every replica region (Vault storage)',
  'AWS::Backup::BackupVault': 'recovery points',
  'AWS::Logs::LogGroup': 'log events (audit data)',
  'AWS::EFS::FileSystem': 'files',
  'AWS::EKS::Cluster': 'the cluster, its workloads and their volumes',
  'AWS::RedshiftServerless::Namespace': 'the warehouse\'s tables and recovery points',
};

export function isStatefulType(type: string | undefined): boolean {
  return type !== undefined && Object.prototype.hasOwnProperty.call(STATEFUL_RESOURCE_TYPES, type);
}
