import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { contextFromArgs, durationSeconds, imageTagFrom, loadPlatformSpec } from '../../lib/spec';
import type { PlatformSpec } from '../../lib/spec';
import { problemsAfter } from '../helpers/spec';
import type { Mutable } from '../helpers/spec';

const spec = loadPlatformSpec();

describe('the spec says what the architecture document says', () => {
  it('runs production on 10 x m5.xlarge and staging on 3 x m5.large, both in us-east-1', () => {
    expect(spec.environments.production).toMatchObject({
      region: 'us-east-1', cluster: { nodeGroup: { nodes: 10, instanceType: 'm5.xlarge' } },
    });
    expect(spec.environments.staging).toMatchObject({
      region: 'us-east-1', cluster: { nodeGroup: { nodes: 3, instanceType: 'm5.large' } },
    });
  });

  it('lists the five services on ports 8000-8004', () => {
    expect(spec.services.map((s) => [s.name, s.port])).toEqual([
      ['api-gateway', 8000], ['auth-service', 8001], ['user-service', 8002], ['payment-service', 8003], ['order-service', 8004],
    ]);
  });

  it('scales the three services of the autoscaling table as written', () => {
    const row = (name: string) => spec.services.find((s) => s.name === name)!.autoscaling;
    expect(row('api-gateway')).toEqual({ minReplicas: 3, maxReplicas: 20, trigger: { type: 'cpu', targetUtilizationPercent: 70 } });
    expect(row('user-service')).toEqual({ minReplicas: 2, maxReplicas: 10, trigger: { type: 'cpu', targetUtilizationPercent: 70 } });
    expect(row('payment-service')).toMatchObject({ minReplicas: 3, maxReplicas: 15, trigger: { type: 'latency', thresholdMs: 200 } });
  });

  it('keeps the data tier and DR numbers', () => {
    expect(spec.environments.production.database.readReplicas).toBe(2);
    expect(spec.dataTier.pgbouncer.maxClientConnections).toBe(1000);
    expect(spec.dataTier.sharding).toEqual({ implemented: false, plannedYear: 2026 });
    const dr = spec.disasterRecovery;
    expect([durationSeconds(dr.database.rpo), durationSeconds(dr.database.rto)]).toEqual([3600, 4 * 3600]);
    expect([durationSeconds(dr.secrets.rpo), durationSeconds(dr.secrets.rto)]).toEqual([0, 3600]);
    expect([durationSeconds(dr.configuration.rpo), durationSeconds(dr.configuration.rto)]).toEqual([0, 30 * 60]);
  });

  it('has the four security zones with the access the spec gives them', () => {
    expect(Object.fromEntries(Object.entries(spec.securityZones).map(([zone, z]) => [zone, z.access]))).toEqual({
      public: 'internet', dmz: 'vpn-only', private: 'service-mesh', restricted: 'bastion-only',
    });
    expect(spec.services.find((s) => s.name === 'api-gateway')!.zone).toBe('dmz');
  });

  it('lets operators in through the VPN (the DMZ, "VPN only") and the bastion (the restricted zone, "Bastion only")', () => {
    expect(spec.operatorAccess.vpn).toContain('dmz');
    expect(spec.operatorAccess.bastion).toContain('restricted');
    expect(problemsAfter((d) => { (d.operatorAccess.vpn as string[]).push('internet'); })).toContain('operatorAccess.vpn.2');
  });

  it('is frozen: nothing downstream can change a number by accident', () => {
    expect(() => { (spec.services[0].autoscaling as { minReplicas: number }).minReplicas = 1; }).toThrow(TypeError);
  });
});

describe('validation names the field and the value', () => {
  it.each<[string, (d: Mutable<PlatformSpec>) => void, string]>([
    ['node count of 0', (d) => { d.environments.production.cluster.nodeGroup.nodes = 0; },
      'environments.production.cluster.nodeGroup.nodes = 0: must be >= 1'],
    ['unknown instance type', (d) => { d.environments.staging.cluster.nodeGroup.instanceType = 'm5.huge'; },
      'environments.staging.cluster.nodeGroup.instanceType = "m5.huge": unknown EC2 instance type'],
    ['instance type typo in the family', (d) => { d.environments.production.network.bastionInstanceType = 'm55.large'; },
      'environments.production.network.bastionInstanceType = "m55.large": unknown EC2 instance type'],
    ['port clash', (d) => { d.services[3].port = 8001; },
      'services.3.port = 8001: port clash: also used by services[1].port (auth-service)'],
    ['health port clashing with a service port', (d) => { d.services[0].healthPort = 8004; },
      'services.4.port = 8004: port clash: also used by services[0].healthPort (api-gateway)'],
    ['min > max', (d) => { d.services[2].autoscaling.minReplicas = 11; },
      'services.2.autoscaling.minReplicas = 11: must be <= maxReplicas (10) of service user-service'],
    ['CPU target over 100%', (d) => { d.services[0].autoscaling.trigger = { type: 'cpu', targetUtilizationPercent: 170 }; },
      'services.0.autoscaling.trigger.targetUtilizationPercent = 170: must be <= 100'],
    ['unknown trigger', (d) => { (d.services[0].autoscaling.trigger as { type: string }).type = 'memory'; },
      'services.0.autoscaling.trigger.type'],
    ['privileged port', (d) => { d.services[1].port = 80; },
      'services.1.port = 80: must be >= 1024'],
    ['duplicate service name', (d) => { d.services[4].name = 'user-service'; },
      'services.4.name = "user-service": duplicate service name'],
    ['malformed account id', (d) => { d.environments.staging.account = '12345'; },
      'environments.staging.account = "12345": must be a 12-digit AWS account id'],
    ['AZ outside the region', (d) => { d.environments.production.availabilityZones[2] = 'us-west-2c'; },
      'environments.production.availabilityZones.2 = "us-west-2c": is not in region us-east-1'],
    ['two AZs only', (d) => { d.environments.production.availabilityZones.pop(); },
      'environments.production.availabilityZones = ["us-east-1a","us-east-1b"]: must list exactly three availability zones'],
    ['more NATs than AZs', (d) => { d.environments.production.network.natGateways = 4; },
      'environments.production.network.natGateways = 4: must be <= the number of availability zones (3)'],
    ['VPN client CIDR inside the VPC', (d) => { d.environments.staging.network.vpn.clientCidr = '10.20.4.0/22'; },
      'environments.staging.network.vpn.clientCidr = "10.20.4.0/22": overlaps the VPC CIDR 10.20.0.0/16'],
    ['CIDR with host bits', (d) => { d.environments.production.network.vpcCidr = '10.10.0.1/16'; },
      'environments.production.network.vpcCidr = "10.10.0.1/16": must be an IPv4 CIDR block'],
    ['log retention CloudWatch does not offer', (d) => { d.environments.production.network.flowLogRetentionDays = 100; },
      'environments.production.network.flowLogRetentionDays = 100: must be a CloudWatch Logs retention period'],
    ['VPN certificate given as an ARN', (d) => {
      d.environments.production.network.vpn.serverCertificateId = 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000001';
    }, 'environments.production.network.vpn.serverCertificateId = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000001": must be an ACM certificate id (the UUID that ends its ARN)'],
    ['admin role given as an ARN', (d) => { d.environments.staging.cluster.adminRoleName = 'arn:aws:iam::222222222222:role/platform-admin'; },
      'environments.staging.cluster.adminRoleName = "arn:aws:iam::222222222222:role/platform-admin": must be an IAM role name (no path, at most 64 characters)'],
    ['environment key and name disagree', (d) => { d.environments.staging.name = 'stage'; },
      'environments.staging.name = "stage": must equal its key "staging"'],
    ['chart version range instead of a pin', (d) => { d.clusterAddons.keda.version = '^2.20'; },
      'clusterAddons.keda.version = "^2.20": must be an exact chart version'],
    ['DR target that is no duration', (d) => { d.disasterRecovery.database.rpo = '1 hour'; },
      'disasterRecovery.database.rpo = "1 hour": must be an ISO-8601 duration'],
    ['Kubernetes version typo', (d) => { d.environments.production.cluster.kubernetesVersion = '135'; },
      'environments.production.cluster.kubernetesVersion = "135": must be a Kubernetes minor version'],
    ['DR region equal to an environment region', (d) => { d.drRegion.name = 'us-east-1'; },
      'drRegion.name = "us-east-1": must differ from the region of environment production'],
    ['DR AZ outside the DR region', (d) => { d.drRegion.availabilityZones[0] = 'us-east-1a'; },
      'drRegion.availabilityZones.0 = "us-east-1a": is not in region us-west-2'],
    ['endpoint drain that leaves the services no drain time', (d) => { d.workloads.endpointDrainSeconds = 20; },
      'workloads.endpointDrainSeconds = 20: leaves the services no drain time: terminationGracePeriodSeconds (30) must be >= endpointDrainSeconds + 10 s for the exit + 1 s'],
    ['negative endpoint drain', (d) => { d.workloads.endpointDrainSeconds = -1; },
      'workloads.endpointDrainSeconds = -1: must be >= 0'],
    ['unknown field', (d) => { (d.environments.production.cluster as Record<string, unknown>).nodes = 10; },
      'environments.production.cluster'],
  ])('rejects a %s', (_, edit, expected) => {
    expect(problemsAfter(edit)).toContain(expected);
  });

  it('reports every problem at once, not only the first', () => {
    const message = problemsAfter((d) => {
      d.environments.production.cluster.nodeGroup.nodes = 0;
      d.services[0].autoscaling.minReplicas = 99;
    });
    expect(message.split('\n').filter((line) => line.startsWith('  - '))).toHaveLength(2);
  });

  it('reports the cross-field problems of different domains together, each at its field', () => {
    const { vault, edge, dataTier } = spec;
    const message = problemsAfter((d) => {
      d.vault.clusterPort = d.vault.apiPort;
      d.edge.staticPaths.defaultTtlSeconds = d.edge.staticPaths.maxTtlSeconds + 1;
      d.dataTier.kafka.minInsyncReplicas = d.dataTier.kafka.defaultReplicationFactor;
    });
    expect(message.split('\n').filter((line) => line.startsWith('  - '))).toEqual([
      `  - vault.clusterPort = ${vault.apiPort}: must differ from vault.apiPort`,
      `  - dataTier.kafka.minInsyncReplicas = ${dataTier.kafka.defaultReplicationFactor}: must be < defaultReplicationFactor (${dataTier.kafka.defaultReplicationFactor}), or one broker down stops every producer`,
      `  - edge.staticPaths.defaultTtlSeconds = ${edge.staticPaths.maxTtlSeconds + 1}: must be <= maxTtlSeconds (${edge.staticPaths.maxTtlSeconds})`,
    ]);
  });

  it('reports a malformed duration once, not again through the rules that compare it', () => {
    const message = problemsAfter((d) => { d.vault.pkiCaTtl = 'one year'; });
    expect(message.split('\n').filter((line) => line.startsWith('  - '))).toEqual([
      '  - vault.pkiCaTtl = "one year": must be an ISO-8601 duration such as PT1H or PT30M',
    ]);
  });
});

describe('account ids are overridable without editing the spec', () => {
  it('takes PLATFORM_<ENV>_ACCOUNT from the environment', () => {
    const loaded = loadPlatformSpec({ env: { PLATFORM_STAGING_ACCOUNT: '333333333333' } });
    expect(loaded.environments.staging.account).toBe('333333333333');
    expect(loaded.environments.production.account).toBe(spec.environments.production.account);
  });

  it('prefers -c <env>:account over the environment variable', () => {
    const loaded = loadPlatformSpec({
      env: { PLATFORM_PRODUCTION_ACCOUNT: '333333333333' },
      context: (key) => (key === 'production:account' ? '444444444444' : undefined),
    });
    expect(loaded.environments.production.account).toBe('444444444444');
  });

  it('validates an override like any other value', () => {
    expect(() => loadPlatformSpec({ env: { PLATFORM_PRODUCTION_ACCOUNT: 'prod' } }))
      .toThrow('environments.production.account = "prod": must be a 12-digit AWS account id');
  });
});

describe('a target that names nothing fails the load, one line each (no silent wrong target)', () => {
  const problems = (options: Parameters<typeof loadPlatformSpec>[0]) => {
    try {
      loadPlatformSpec(options);
      return [];
    } catch (error) {
      return (error as Error).message.split('\n').slice(1).map((line) => line.replace(/^ {2}- /, ''));
    }
  };

  it('refuses an unknown environment in a context key or an account variable', () => {
    expect(problems({ contextKeys: ['prod:account'] }))
      .toEqual(['context prod:account: unknown environment "prod"; the environments are production, staging']);
    expect(problems({ env: { PLATFORM_PROD_ACCOUNT: '123456789012' } }))
      .toEqual(['environment variable PLATFORM_PROD_ACCOUNT: unknown environment "prod"; the environments are production, staging']);
  });

  it('refuses an unknown key of a known environment or of services, and reports every one', () => {
    expect(problems({ contextKeys: ['staging:acount', 'services:imagetag', 'production:account'] })).toEqual([
      'context services:imagetag: unknown key; services takes services:imageTag',
      'context staging:acount: unknown key; staging takes staging:account',
    ]);
  });

  it("leaves CDK's own context alone: feature flags, aws:cdk:*, keys without a namespace", () => {
    expect(problems({
      contextKeys: ['@aws-cdk/core:enablePartitionLiterals', 'aws:cdk:enable-path-metadata', 'aws-cdk:enableDiffNoFail', 'cli-telemetry'],
      env: { PLATFORM_PRODUCTION_ACCOUNT: '123456789012', PLATFORM_PROD_ACCOUNT: '' },
    })).toEqual([]);
  });

  it('reads context pairs from a cdk command line the way cdk does', () => {
    expect([...contextFromArgs(['synth', '-c', 'a:b=1', '--context', 'c:d=x=y', '--context=e:f=', 'production/*'])])
      .toEqual([['a:b', '1'], ['c:d', 'x=y'], ['e:f', '']]);
    expect(() => contextFromArgs(['-c', 'novalue'])).toThrow('-c novalue: expected key=value');
    expect(() => contextFromArgs(['synth', '--context'])).toThrow('--context: expected key=value after it');
  });

  it('takes the image tag from context before the environment variable', () => {
    expect(imageTagFrom((key) => (key === 'services:imageTag' ? 'abc' : undefined), { SERVICES_IMAGE_TAG: 'def' })).toBe('abc');
    expect(imageTagFrom(() => undefined, { SERVICES_IMAGE_TAG: 'def' })).toBe('def');
    expect(imageTagFrom(undefined, {})).toBeUndefined();
  });
});

describe('the CDK app', () => {
  it('fails with one clear message naming the field when a context override is bad', () => {
    const root = path.join(__dirname, '..', '..');
    // cdk.json's app command, as the CLI runs it: the runner adds nothing to the app's one line.
    const [command, ...args] = (JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8')) as { app: string }).app.split(' ');
    expect(command).toBe('node');
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'platform-bad-spec-'));
    const result = spawnSync(process.execPath, args, {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ 'staging:account': 'not-an-account' }), CDK_OUTDIR: outdir },
    });
    fs.rmSync(outdir, { recursive: true, force: true });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'Invalid platform spec:\n  - environments.staging.account = "not-an-account": must be a 12-digit AWS account id',
    );
  });
});
