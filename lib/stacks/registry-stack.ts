import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { configRepositoryName, serviceRepositoryName } from '../spec/topology';
import { artifactsBucketName } from '../analytics/artifact';
import { acknowledge } from '../compliance';
import { AccessLogBucket } from '../constructs/edge/access-log-bucket';
import { DataKey } from '../constructs/shared/data-key';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';

/** Images kept per repository; older ones expire (a rollback goes back days, not months). */
const IMAGES_KEPT = 100;
/**
 * Rendered-manifest artifacts kept in the config repository: the revisions an environment can
 * roll back to without a rebuild (an older commit's artifact is re-rendered and pushed by CI).
 */
const CONFIG_ARTIFACTS_KEPT = 200;
/** A superseded jar (an older source hash) stays this long: a rollback to it needs no rebuild. */
const ARTIFACT_VERSIONS_KEPT_DAYS = 365;

/**
 * The services' image repositories (docs/workloads.md): one ECR repository per service of the
 * spec, named `<project>/<service>`, immutable tags, scanned on push, KMS-encrypted, retained;
 * and the environment's config repository `<project>/<gitops.repositoryName>`, the GitOps source.
 * CI builds `services/<svc>/Dockerfile` and pushes `<repository>:<git sha>`; synth never builds
 * an image, the charts name the tag (`-c services:imageTag=<sha>`).
 *
 * The artifacts bucket holds the analytics job's jar (lib/analytics/artifact.ts): published by
 * `npm run analytics:publish` under a key derived from its sources, read by Managed Flink.
 */
export class RegistryStack extends PlatformStack {
  readonly encryptionKey: kms.Key;
  readonly repositories: Readonly<Record<string, ecr.Repository>>;
  /** The environment's GitOps source (docs/gitops.md): dist/<env>/ of a commit as an OCI artifact, which Flux pulls. */
  readonly configRepository: ecr.Repository;
  /** Build artifacts that are not images: the Flink job's jar. */
  readonly artifactsBucket: s3.Bucket;
  readonly artifactsKey: kms.Key;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: ECR repositories of the services and of the rendered manifests`,
      ...props,
    });
    const prefix = `${props.spec.project}-${props.environment.name}`;
    this.encryptionKey = new DataKey(this, 'ImagesKey', { alias: `${prefix}-images`, description: `${prefix}: ECR image encryption` }).key;
    const repositories: Record<string, ecr.Repository> = {};
    for (const service of props.spec.services) {
      const repository = new ecr.Repository(this, `Repository-${service.name}`, {
        repositoryName: serviceRepositoryName(props.spec, service.name),
        imageTagMutability: ecr.TagMutability.IMMUTABLE,
        imageScanOnPush: true,
        encryption: ecr.RepositoryEncryption.KMS,
        encryptionKey: this.encryptionKey,
        removalPolicy: RemovalPolicy.RETAIN,
        lifecycleRules: [{ description: `keep the newest ${IMAGES_KEPT} images`, maxImageCount: IMAGES_KEPT }],
      });
      repositories[service.name] = repository;
      new CfnOutput(this, `RepositoryUri-${service.name}`, { value: repository.repositoryUri });
    }
    this.repositories = repositories;

    // A branch's artifact tag moves with every publish; a pinned commit's never does.
    const revision = props.environment.gitops.revision;
    this.configRepository = new ecr.Repository(this, 'ConfigRepository', {
      repositoryName: configRepositoryName(props.spec),
      imageTagMutability: 'branch' in revision ? ecr.TagMutability.MUTABLE : ecr.TagMutability.IMMUTABLE,
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.KMS,
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ description: `keep the newest ${CONFIG_ARTIFACTS_KEPT} artifacts`, maxImageCount: CONFIG_ARTIFACTS_KEPT }],
    });
    if ('branch' in revision) {
      acknowledge(this.configRepository, 'checkov:CKV_AWS_51',
        `The environment follows the branch ${revision.branch}: its artifact tag moves with each publish by design; a pinned commit (production) gets an immutable repository.`);
    }
    new CfnOutput(this, 'ConfigRepositoryUri', { value: this.configRepository.repositoryUri });

    this.artifactsKey = new DataKey(this, 'ArtifactsKey', { alias: `${prefix}-artifacts`, description: `${prefix}: build artifacts (the analytics job's jar)` }).key;
    const accessLogs = new AccessLogBucket(this, 'ArtifactsAccessLogs', { expirationDays: ARTIFACT_VERSIONS_KEPT_DAYS });
    this.artifactsBucket = new s3.Bucket(this, 'Artifacts', {
      bucketName: artifactsBucketName(props.spec, props.environment),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.artifactsKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs.bucket,
      serverAccessLogsPrefix: 'artifacts/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{
        noncurrentVersionExpiration: Duration.days(ARTIFACT_VERSIONS_KEPT_DAYS),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    });
    for (const ruleId of ['NIST.800.53.R5-S3BucketReplicationEnabled', 'PCI.DSS.321-S3BucketReplicationEnabled']) {
      acknowledge(this.artifactsBucket, ruleId,
        'Build output, reproducible from the sources of any commit (scripts/analytics/publish.ts); versioning and RETAIN keep it, a cross-region copy adds nothing.');
    }
    new CfnOutput(this, 'ArtifactsBucketName', { value: this.artifactsBucket.bucketName });
  }
}
