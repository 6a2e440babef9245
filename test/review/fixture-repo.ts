/**
 * A tiny platform-shaped repository for the review tools' tests: a CDK app with two Stages
 * (production, staging) of one data stack each (a database in a restricted subnet, a bastion and
 * a function in a private one), and a charts/main.ts rendering one HPA per environment, both
 * driven by fixture-spec.json so each commit changes one thing. It uses this repository's
 * node_modules through a symlink (gitignored, as node_modules is here).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const MAIN_ROOT = path.join(__dirname, '..', '..');

export interface FixtureSpec {
  /** DBInstanceIdentifier of the database: changing it replaces the instance. */
  readonly dbIdentifier: string;
  /** Adds a queue, a role allowed to send to it and a security group with an ingress rule. */
  readonly queue: boolean;
  /** maxReplicas of the rendered HPA. */
  readonly maxReplicas: number;
  /**
   * The network around the database (zone-named subnets, a bastion, a VPC function with open
   * egress): whether the bastion's group is admitted on 5432, and whether anything is.
   */
  readonly bastionToDatabase?: boolean;
  readonly anywhereToDatabase?: boolean;
}

const APP = `import * as fs from 'node:fs';
import { App, CfnDeletionPolicy, Stack, Stage } from 'aws-cdk-lib';
import { CfnInstance, CfnSecurityGroup, CfnSecurityGroupIngress, CfnSubnet, CfnVPC } from 'aws-cdk-lib/aws-ec2';
import { CfnRole } from 'aws-cdk-lib/aws-iam';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnDBInstance, CfnDBSubnetGroup } from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';

const spec = JSON.parse(fs.readFileSync('fixture-spec.json', 'utf8'));
const app = new App();
for (const env of ['production', 'staging']) {
  const stage = new Stage(app, env, { env: { account: '111111111111', region: 'us-east-1' } });
  const data = new Stack(stage, 'Data', { stackName: \`fixture-\${env}-data\` });
  // A platform-shaped network: subnets named after their zones, a bastion, a function with open egress.
  const vpc = new CfnVPC(data, 'Vpc', { cidrBlock: '10.0.0.0/16' });
  const subnet = (zone: string, cidr: string) => new CfnSubnet(data, \`\${zone}Subnet\`, {
    vpcId: vpc.ref, cidrBlock: cidr, availabilityZone: 'us-east-1a', tags: [{ key: 'aws-cdk:subnet-name', value: zone }],
  });
  const privateSubnet = subnet('private', '10.0.0.0/24');
  const restrictedSubnet = subnet('restricted', '10.0.1.0/24');
  const noEgress = [{ ipProtocol: 'icmp', cidrIp: '255.255.255.255/32', fromPort: 252, toPort: 86 }];
  const bastionGroup = new CfnSecurityGroup(data, 'BastionGroup', {
    vpcId: vpc.ref, groupDescription: 'bastion', securityGroupEgress: [{ ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIp: '10.0.1.0/24' }],
  });
  const restrictedGroup = new CfnSecurityGroup(data, 'RestrictedGroup', { vpcId: vpc.ref, groupDescription: 'data stores', securityGroupEgress: noEgress });
  new CfnInstance(new Construct(data, 'Bastion'), 'Host', { imageId: 'ami-12345678', subnetId: privateSubnet.ref, securityGroupIds: [bastionGroup.attrGroupId] });
  const handlerGroup = new CfnSecurityGroup(data, 'HandlerGroup', { vpcId: vpc.ref, groupDescription: 'a function, all egress (EC2 default)' });
  new CfnFunction(data, 'Handler', {
    role: 'arn:aws:iam::111111111111:role/handler', runtime: 'nodejs22.x', handler: 'index.handler', code: { zipFile: 'exports.handler = async () => {};' },
    vpcConfig: { subnetIds: [privateSubnet.ref], securityGroupIds: [handlerGroup.attrGroupId] },
  });
  if (spec.bastionToDatabase ?? true) {
    new CfnSecurityGroupIngress(data, 'BastionToDatabase', {
      groupId: restrictedGroup.attrGroupId, ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, sourceSecurityGroupId: bastionGroup.attrGroupId,
    });
  }
  if (spec.anywhereToDatabase) {
    new CfnSecurityGroupIngress(data, 'AnywhereToDatabase', { groupId: restrictedGroup.attrGroupId, ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIp: '0.0.0.0/0' });
  }
  const subnets = new CfnDBSubnetGroup(data, 'DatabaseSubnets', { dbSubnetGroupDescription: 'restricted', subnetIds: [restrictedSubnet.ref] });
  const db = new CfnDBInstance(data, 'Database', {
    engine: 'postgres', dbInstanceClass: 'db.t3.micro', allocatedStorage: '20', masterUsername: 'app',
    manageMasterUserPassword: true, dbInstanceIdentifier: \`\${spec.dbIdentifier}-\${env}\`,
    dbSubnetGroupName: subnets.ref, vpcSecurityGroups: [restrictedGroup.attrGroupId], port: '5432',
  });
  db.cfnOptions.deletionPolicy = CfnDeletionPolicy.SNAPSHOT;
  db.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.SNAPSHOT;
  new CfnBucket(data, 'Archive', {});
  if (spec.queue) {
    const queue = new CfnQueue(data, 'Events', {});
    new CfnRole(data, 'Publisher', {
      assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
      policies: [{ policyName: 'send', policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queue.attrArn }] } }],
    });
    new CfnSecurityGroup(data, 'DatabaseAccess', {
      groupDescription: 'database clients', vpcId: 'vpc-12345678',
      securityGroupIngress: [{ ipProtocol: 'tcp', fromPort: 5432, toPort: 5432, cidrIp: '10.0.0.0/16' }],
    });
  }
}
app.synth();
`;

const CHARTS = `import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiObject, App, Chart, YamlOutputType } from 'cdk8s';

const spec = JSON.parse(fs.readFileSync('fixture-spec.json', 'utf8'));
const outdir = process.argv[2] ?? 'dist';
for (const env of ['production', 'staging']) {
  const app = new App({ outdir: path.join(outdir, env), outputFileExtension: '.k8s.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const chart = new Chart(app, 'payment-service');
  new ApiObject(chart, 'hpa', {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'payment-service', namespace: 'payments' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'payment-service' },
      minReplicas: 2, maxReplicas: spec.maxReplicas,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    },
  });
  app.synth();
}
`;

export class FixtureRepo {
  readonly root: string;

  constructor(parent: string) {
    this.root = fs.mkdtempSync(path.join(parent ?? os.tmpdir(), 'fixture-repo-'));
    this.git('init', '--quiet', '--initial-branch=main');
    fs.mkdirSync(path.join(this.root, 'bin'));
    fs.mkdirSync(path.join(this.root, 'charts'));
    fs.writeFileSync(path.join(this.root, 'bin', 'app.ts'), APP);
    fs.writeFileSync(path.join(this.root, 'charts', 'main.ts'), CHARTS);
    fs.writeFileSync(path.join(this.root, 'cdk.json'), `${JSON.stringify({ app: 'npx tsx bin/app.ts', context: {} }, null, 2)}\n`);
    fs.writeFileSync(path.join(this.root, '.gitignore'), 'node_modules\ncdk.out\ndist\n.cache\n');
    // The same lock file as this repository's, so the tools link node_modules instead of `npm ci`.
    fs.copyFileSync(path.join(MAIN_ROOT, 'package-lock.json'), path.join(this.root, 'package-lock.json'));
    fs.symlinkSync(path.join(MAIN_ROOT, 'node_modules'), path.join(this.root, 'node_modules'), 'dir');
  }

  git(...args: string[]): string {
    return execFileSync('git', ['-c', 'user.name=fixture', '-c', 'user.email=fixture@example.com', '-c', 'commit.gpgsign=false', ...args], {
      cwd: this.root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  }

  /** Writes the spec and commits everything; returns the commit id. */
  commit(spec: FixtureSpec, message: string): string {
    fs.writeFileSync(path.join(this.root, 'fixture-spec.json'), `${JSON.stringify(spec, null, 2)}\n`);
    this.git('add', '-A');
    this.git('commit', '--quiet', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }
}
