import { AssetHashType, CustomResource, DockerImage } from 'aws-cdk-lib';
import type { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { RetainedLogGroup } from '../constructs/shared/retained-log-group';
import { bundleWithCache } from './bundle-cache';

export interface BundledProviderProps {
  /** The handler's function name; the provider's is `<functionName>-provider`. Each logs to `/aws/lambda/<its name>`. */
  readonly functionName: string;
  readonly description: string;
  /** The folder of the handler: its bundle.mjs writes index.mjs (exporting `handler`) into a given directory. */
  readonly bundleDir: string;
  readonly timeout: Duration;
  readonly vpc: ec2.IVpc;
  /** Where both functions run: subnets with a route to the AWS APIs (NAT). */
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Encrypts both functions' log groups. */
  readonly logsKey: kms.IKey;
  readonly logRetentionDays: number;
  /** `Custom::<Name>`. */
  readonly resourceType: string;
  readonly properties: Record<string, unknown>;
}

export interface BundledProvider {
  readonly handler: lambda.Function;
  /** The provider framework's own function (it invokes the handler). */
  readonly framework: lambda.Function;
  readonly resource: CustomResource;
}

/** Where bundle.mjs writes the handler (or the bundle cache its last bundle); a local esbuild, no Docker (DESIGN.md §3). */
function bundledHandlerCode(bundleDir: string): lambda.Code {
  return lambda.Code.fromAsset(bundleDir, {
    // The bundle pulls in node_modules: hash what is shipped, not this folder.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only used if local bundling were declined; it never is (tryBundle fails loudly instead).
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'),
      local: {
        tryBundle(outputDir: string) {
          bundleWithCache(bundleDir, outputDir);
          return true;
        },
      },
    },
  });
}

/**
 * A deploy-time custom resource whose handler is a locally bundled Lambda in the VPC, behind
 * aws-cdk-lib's custom-resource Provider (in the same subnets and group), both functions logging
 * to retained, encrypted log groups.
 *
 * The resources are added to `scope` itself, under the ids `HandlerLogs`, `Handler`,
 * `ProviderLogs`, `Provider` and `Resource`, not to a child construct: a child would add a path
 * segment and so move every logical id, and CloudFormation would replace the functions and the
 * custom resource and orphan the retained log groups.
 */
export function addBundledProvider(scope: Construct, props: BundledProviderProps): BundledProvider {
  const providerName = `${props.functionName}-provider`;
  const logGroup = (logId: string, functionName: string) => new RetainedLogGroup(scope, logId, {
    logGroupName: `/aws/lambda/${functionName}`,
    retentionDays: props.logRetentionDays,
    encryptionKey: props.logsKey,
  }).logGroup;

  const handler = new lambda.Function(scope, 'Handler', {
    functionName: props.functionName,
    description: props.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    code: bundledHandlerCode(props.bundleDir),
    handler: 'index.handler',
    memorySize: 256,
    timeout: props.timeout,
    vpc: props.vpc,
    vpcSubnets: props.subnets,
    securityGroups: [props.securityGroup],
    logGroup: logGroup('HandlerLogs', props.functionName),
  });

  const provider = new cr.Provider(scope, 'Provider', {
    onEventHandler: handler,
    providerFunctionName: providerName,
    logGroup: logGroup('ProviderLogs', providerName),
    vpc: props.vpc,
    vpcSubnets: props.subnets,
    securityGroups: [props.securityGroup],
  });

  const resource = new CustomResource(scope, 'Resource', {
    serviceToken: provider.serviceToken,
    resourceType: props.resourceType,
    properties: props.properties,
  });
  return { handler, framework: provider.node.findChild('framework-onEvent') as lambda.Function, resource };
}
