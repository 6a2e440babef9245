/**
 * A tiny platform-shaped repository for the review tools' tests: a CDK app with two Stages
 * (production, staging) of one data stack each, and a charts/main.ts rendering one HPA per
 * environment, both driven by fixture-spec.json so each commit changes one thing. It uses this
 * repository's node_modules through a symlink (gitignored, as node_modules is here).
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
}

const APP = `import * as fs from 'node:fs';
import { App, CfnDeletionPolicy, Stack, Stage } from 'aws-cdk-lib';
import { CfnSecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { CfnRole } from 'aws-cdk-lib/aws-iam';
import { CfnDBInstance } from 'aws-cdk-lib/aws-rds';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';

const spec = JSON.parse(fs.readFileSync('fixture-spec.json', 'utf8'));
const app = new App();
for (const env of ['production', 'staging']) {
  const stage = new Stage(app, env, { env: { account: '111111111111', region: 'us-east-1' } });
  const data = new Stack(stage, 'Data', { stackName: \`fixture-\${env}-data\` });
  const db = new CfnDBInstance(data, 'Database', {
    engine: 'postgres', dbInstanceClass: 'db.t3.micro', allocatedStorage: '20', masterUsername: 'app',
    manageMasterUserPassword: true, dbInstanceIdentifier: \`\${spec.dbIdentifier}-\${env}\`,
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
    fs.writeFileSync(path.join(this.root, '.gitignore'), 'node_modules\ncdk.out\ndist\n');
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
