import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { serviceRepositoryName } from '../../charts/lib/topology';
import { DataKey } from '../constructs/data-key';
import { PlatformStack } from './platform-stack';
import type { PlatformStackProps } from './platform-stack';

/** Images kept per repository; older ones expire (a rollback goes back days, not months). */
const IMAGES_KEPT = 100;

/**
 * The services' image repositories (docs/workloads.md): one ECR repository per service of the
 * spec, named `<project>/<service>`, immutable tags, scanned on push, KMS-encrypted, retained.
 * CI builds `services/<svc>/Dockerfile` and pushes `<repository>:<git sha>`; synth never builds
 * an image, the charts name the tag (`-c services:imageTag=<sha>`).
 */
export class RegistryStack extends PlatformStack {
  readonly encryptionKey: kms.Key;
  readonly repositories: Readonly<Record<string, ecr.Repository>>;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, {
      description: `${props.spec.project} ${props.environment.name}: ECR repositories of the services`,
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
  }
}
