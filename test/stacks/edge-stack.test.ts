import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { MANAGED_RULE_GROUPS } from '../../lib/constructs/edge/managed-rules-web-acl';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';
import { EdgeStack } from '../../lib/stacks/edge-stack';
import { NetworkStack } from '../../lib/stacks/network-stack';
import { testApp } from '../helpers/app';
import { normaliseTemplate } from '../helpers/normalise-template';

const spec = loadPlatformSpec();
const gateway = spec.services.find((s) => s.name === 'api-gateway')!;
const prefixList = spec.edge.cloudFrontOriginFacingPrefixLists['us-east-1'];

type Resource = { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

// One synth per environment for the whole file; the compliance packs run on the same tree.
const app = testApp();
const built = ENVIRONMENT_NAMES.map((name) => {
  const stage = new Stage(app, name);
  const environment = spec.environments[name];
  const network = new NetworkStack(stage, 'Network', { spec, environment });
  return { network, edge: new EdgeStack(stage, 'Edge', { spec, environment, network }) };
});
const nagViolations = [new AwsSolutionsChecks(app), new PCIDSS321Checks(app), new NIST80053R5Checks(app)]
  .flatMap((pack) => pack.validateScope(app).violations);
const assembly = app.synth();
const stageAssemblies = ENVIRONMENT_NAMES.map((name) => (app.node.findChild(name) as Stage).synth());
const synthesized = Object.fromEntries(ENVIRONMENT_NAMES.map((name, i) =>
  [name, { ...built[i], template: Template.fromStack(built[i].edge) }],
)) as Record<EnvironmentName, { network: NetworkStack; edge: EdgeStack; template: Template }>;

function resources(name: EnvironmentName): Record<string, Resource> {
  return synthesized[name].template.toJSON().Resources;
}
function ofType(name: EnvironmentName, type: string): Array<[string, Resource]> {
  return Object.entries(resources(name)).filter(([, r]) => r.Type === type);
}
function only(name: EnvironmentName, type: string): [string, Resource] {
  const found = ofType(name, type);
  expect(found).toHaveLength(1);
  return found[0];
}
/** A CloudFormation dynamic reference to the origin-verify secret (optionally a given version). */
function secretReference(secretId: string, versionId = '') {
  return { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, `:SecretString:::${versionId}}}`]] };
}

describe.each(ENVIRONMENT_NAMES)('%s edge', (name) => {
  const env = spec.environments[name];
  const template = () => synthesized[name].template;
  const webAcl = (scope: string) => ofType(name, 'AWS::WAFv2::WebACL').find(([, r]) => r.Properties!.Scope === scope)!;
  const secretId = () => only(name, 'AWS::SecretsManager::Secret')[0];
  const albId = () => only(name, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0];

  it('is bound to the spec account and region, depends on the network and looks nothing up', () => {
    const { edge, network } = synthesized[name];
    expect([edge.stackName, edge.account, edge.region]).toEqual([`platform-${name}-edge`, env.account, env.region]);
    expect(edge.terminationProtection).toBe(env.terminationProtection);
    expect(edge.dependencies).toContain(network);
    expect(assembly.manifest.missing ?? []).toEqual([]);
    for (const stageAssembly of stageAssemblies) expect(stageAssembly.manifest.missing ?? []).toEqual([]);
  });

  describe('CloudFront', () => {
    const config = () => only(name, 'AWS::CloudFront::Distribution')[1].Properties!.DistributionConfig;

    it('serves the spec domain with the us-east-1 certificate, TLS 1.2_2021+ and HTTP redirected to HTTPS', () => {
      expect(config().Aliases).toEqual([env.edge.domainName]);
      expect(config().ViewerCertificate).toEqual({
        // CloudFront reads ACM in us-east-1 only, whatever the environment's region.
        AcmCertificateArn: `arn:aws:acm:us-east-1:${env.account}:certificate/${env.edge.cloudFrontCertificateId}`,
        MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only',
      });
      for (const behavior of [config().DefaultCacheBehavior, ...config().CacheBehaviors]) {
        expect(behavior.ViewerProtocolPolicy).toBe('redirect-to-https');
      }
    });

    it('has one origin, the ALB by its spec name, over HTTPS only with TLS 1.2, adding the secret header', () => {
      expect(config().Origins).toEqual([expect.objectContaining({
        DomainName: env.edge.originDomainName,
        CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] },
        OriginCustomHeaders: [{ HeaderName: spec.edge.originVerifyHeaderName, HeaderValue: secretReference(secretId()) }],
      })]);
      // The origin name is an alias of this ALB: the stack says so next to the ALB's DNS name.
      expect(template().toJSON().Outputs.LoadBalancerDnsName).toEqual({
        Description: expect.stringContaining(env.edge.originDomainName), Value: { 'Fn::GetAtt': [albId(), 'DNSName'] },
      });
    });

    it('never caches the API and forwards all viewer headers (so Authorization) except Host', () => {
      expect(config().DefaultCacheBehavior).toMatchObject({
        CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // Managed-CachingDisabled
        OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // Managed-AllViewerExceptHostHeader
        AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      });
    });

    it('caches the spec static paths with the spec TTLs and nothing in the key', () => {
      const behaviors = config().CacheBehaviors;
      expect(behaviors.map((b: any) => b.PathPattern)).toEqual(spec.edge.staticPaths.pathPatterns);
      const [policyId, policy] = only(name, 'AWS::CloudFront::CachePolicy');
      for (const b of behaviors) expect(b).toMatchObject({ CachePolicyId: { Ref: policyId }, AllowedMethods: ['GET', 'HEAD', 'OPTIONS'] });
      expect(policy.Properties!.CachePolicyConfig).toMatchObject({
        MinTTL: 0, DefaultTTL: spec.edge.staticPaths.defaultTtlSeconds, MaxTTL: spec.edge.staticPaths.maxTtlSeconds,
        ParametersInCacheKeyAndForwardedToOrigin: {
          HeadersConfig: { HeaderBehavior: 'none' }, CookiesConfig: { CookieBehavior: 'none' }, QueryStringsConfig: { QueryStringBehavior: 'none' },
        },
      });
    });

    it('logs to the access-log bucket and is protected by the CLOUDFRONT web ACL', () => {
      expect(config().Logging).toEqual({ Bucket: { 'Fn::GetAtt': [expect.any(String), 'RegionalDomainName'] }, Prefix: 'cloudfront/' });
      expect(config().WebACLId).toEqual({ 'Fn::GetAtt': [webAcl('CLOUDFRONT')[0], 'Arn'] });
    });
  });

  describe('WAF', () => {
    it.each(['CLOUDFRONT', 'REGIONAL'])('%s: the managed rule groups and a per-IP rate rule with the spec limit', (scope) => {
      const acl = webAcl(scope)[1].Properties!;
      expect(acl.DefaultAction).toEqual({ Allow: {} });
      const rules = acl.Rules as any[];
      expect(rules.filter((r) => r.Statement.ManagedRuleGroupStatement).map((r) => r.Statement.ManagedRuleGroupStatement))
        .toEqual(MANAGED_RULE_GROUPS.map((groupName) => ({ VendorName: 'AWS', Name: groupName })));
      expect([...MANAGED_RULE_GROUPS].sort()).toEqual([
        'AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesSQLiRuleSet',
      ]);
      expect(rules.find((r) => r.Statement.RateBasedStatement)).toMatchObject({
        Action: { Block: {} }, Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: env.edge.wafRateLimitPer5Minutes } },
      });
      expect(new Set(rules.map((r) => r.Priority)).size).toBe(rules.length);
    });

    it('associates the REGIONAL web ACL with the ALB', () => {
      expect(only(name, 'AWS::WAFv2::WebACLAssociation')[1].Properties).toEqual({
        ResourceArn: { Ref: albId() }, WebACLArn: { 'Fn::GetAtt': [webAcl('REGIONAL')[0], 'Arn'] },
      });
    });

    it.each(['CLOUDFRONT', 'REGIONAL'])('%s: logs to an encrypted aws-waf-logs-* group with the spec retention, Authorization redacted', (scope) => {
      const logging = ofType(name, 'AWS::WAFv2::LoggingConfiguration').map(([, r]) => r.Properties!)
        .find((p) => p.ResourceArn['Fn::GetAtt'][0] === webAcl(scope)[0])!;
      expect(logging.RedactedFields).toEqual([{ SingleHeader: { Name: 'authorization' } }]);
      const destination = JSON.stringify(logging.LogDestinationConfigs);
      const groups = ofType(name, 'AWS::Logs::LogGroup').filter(([, r]) => destination.includes(`:log-group:${r.Properties!.LogGroupName}"`));
      expect(groups).toHaveLength(1);
      const [, group] = groups[0];
      expect(group.Properties!.LogGroupName).toMatch(/^aws-waf-logs-/);
      expect(group.Properties!.RetentionInDays).toBe(env.edge.wafLogRetentionDays);
      expect(group.Properties!.KmsKeyId).toBeDefined();
      expect([group.DeletionPolicy, group.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    });
  });

  describe('ALB', () => {
    const listener = (port: number) => ofType(name, 'AWS::ElasticLoadBalancingV2::Listener').find(([, r]) => r.Properties!.Port === port)!;

    it('is internet-facing in the public subnets with the load-balancer zone group, hardened', () => {
      const alb = only(name, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[1].Properties!;
      expect(alb.Scheme).toBe('internet-facing');
      const publicSubnets = Template.fromStack(synthesized[name].network).findResources('AWS::EC2::Subnet', {
        Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-name', Value: 'public' }]) },
      });
      expect(alb.Subnets).toHaveLength(env.availabilityZones.length);
      for (const subnet of alb.Subnets) {
        expect(Object.keys(publicSubnets).some((id) => JSON.stringify(subnet).includes(id))).toBe(true);
      }
      expect(alb.SecurityGroups).toHaveLength(1);
      expect(JSON.stringify(alb.SecurityGroups)).toContain('ZonesLoadBalancer');
      const attributes = Object.fromEntries(alb.LoadBalancerAttributes.map((a: any) => [a.Key, a.Value]));
      expect(attributes).toMatchObject({
        'deletion_protection.enabled': 'true',
        'routing.http.drop_invalid_header_fields.enabled': 'true',
        'routing.http.desync_mitigation_mode': 'strictest',
        'access_logs.s3.enabled': 'true',
        'access_logs.s3.prefix': 'alb',
      });
    });

    it('listens on 443 with the spec certificate and a TLS 1.3/1.2 policy, 403 by default', () => {
      expect(listener(443)[1].Properties).toMatchObject({
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: `arn:aws:acm:${env.region}:${env.account}:certificate/${env.edge.loadBalancerCertificateId}` }],
        SslPolicy: expect.stringMatching(/^ELBSecurityPolicy-TLS13-1-2-/),
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: expect.objectContaining({ StatusCode: '403' }) }],
      });
    });

    it('redirects 80 to HTTPS', () => {
      expect(listener(80)[1].Properties).toMatchObject({
        Protocol: 'HTTP',
        DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
      });
    });

    it('forwards to the gateway only requests carrying the secret origin header', () => {
      const [, rule] = only(name, 'AWS::ElasticLoadBalancingV2::ListenerRule');
      const [targetGroupId] = only(name, 'AWS::ElasticLoadBalancingV2::TargetGroup');
      expect(rule.Properties).toMatchObject({
        ListenerArn: { Ref: listener(443)[0] },
        Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: spec.edge.originVerifyHeaderName, Values: [secretReference(secretId())] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: { Ref: targetGroupId } }],
      });
    });

    it('admits only CloudFront\'s origin-facing prefix list, on 443 and 80, and nothing from 0.0.0.0/0 anywhere', () => {
      const ingress = ofType(name, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties!);
      expect(ingress.map((r) => [r.SourcePrefixListId, r.FromPort, r.ToPort]).sort()).toEqual([[prefixList, 443, 443], [prefixList, 80, 80]].sort());
      const lbGroupOutput = (r: any) => JSON.stringify(r.GroupId);
      for (const rule of ingress) expect(lbGroupOutput(rule)).toContain('ZonesLoadBalancer');
      expect(ofType(name, 'AWS::EC2::SecurityGroup')).toEqual([]);
      // Nothing in the edge template opens to the world, and no group of the network does either.
      expect(JSON.stringify(template().toJSON())).not.toMatch(/0\.0\.0\.0\/0|::\/0/);
      const network = Template.fromStack(synthesized[name].network);
      const networkIngress = [
        ...Object.values(network.findResources('AWS::EC2::SecurityGroup')).flatMap((g) => g.Properties.SecurityGroupIngress ?? []),
        ...Object.values(network.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties),
      ];
      for (const rule of networkIngress) {
        expect(rule.CidrIp).not.toBe('0.0.0.0/0');
        expect(rule.CidrIpv6).not.toBe('::/0');
      }
    });

    it('targets the api-gateway pod IPs on its port over HTTPS, health-checked on the spec readiness path and health port', () => {
      const [, tg] = only(name, 'AWS::ElasticLoadBalancingV2::TargetGroup');
      expect(tg.Properties).toMatchObject({
        TargetType: 'ip', Protocol: 'HTTPS', Port: gateway.port,
        HealthCheckProtocol: 'HTTP', HealthCheckPort: String(gateway.healthPort), HealthCheckPath: gateway.readinessPath,
      });
      expect([gateway.port, gateway.healthPort, gateway.readinessPath]).toEqual([8000, 9000, '/readyz']);
      expect(synthesized[name].edge.apiGatewayTargetGroup.node.defaultChild).toBeDefined();
    });
  });

  it('keeps the origin secret out of the template: generated, referenced only dynamically', () => {
    const [, secret] = only(name, 'AWS::SecretsManager::Secret');
    expect(secret.Properties!.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    expect(secret.Properties!.SecretString).toBeUndefined();
    const json = JSON.stringify(template().toJSON());
    // Every use of the secret is a {{resolve:secretsmanager:...}} reference: two (CloudFront, ALB rule).
    expect(json.match(/\{\{resolve:secretsmanager:/g)).toHaveLength(2);
    // Nothing that looks like the 64-character generated value appears anywhere.
    expect(json).not.toMatch(/[A-Za-z0-9]{64}/);
  });

  it('writes access logs to RETAIN, versioned, SSE-S3, SSL-only, private buckets that expire logs', () => {
    const buckets = ofType(name, 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(2);
    for (const [id, bucket] of buckets) {
      expect([bucket.DeletionPolicy, bucket.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
      expect(bucket.Properties).toMatchObject({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: env.edge.accessLogExpirationDays, Status: 'Enabled' })] },
      });
      template().hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]) },
      });
    }
  });

  it('keeps its KMS key on delete, with rotation', () => {
    template().hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { EnableKeyRotation: true } });
  });

  it('outputs the distribution domain name, the ALB DNS name and the target group ARN', () => {
    const outputs = template().toJSON().Outputs;
    expect(outputs.DistributionDomainName.Value).toEqual({ 'Fn::GetAtt': [only(name, 'AWS::CloudFront::Distribution')[0], 'DomainName'] });
    expect(outputs.LoadBalancerDnsName.Value).toEqual({ 'Fn::GetAtt': [albId(), 'DNSName'] });
    expect(outputs.ApiGatewayTargetGroupArn.Value).toEqual({ Ref: only(name, 'AWS::ElasticLoadBalancingV2::TargetGroup')[0] });
  });

  it('has no unacknowledged cdk-nag finding (AwsSolutions, PCI DSS 3.2.1, NIST 800-53 rev5)', () => {
    const mine = nagViolations.flatMap((v) => v.violatingResources
      .filter((r) => r.constructPath?.startsWith(`${name}/Edge/`)).map((r) => `${v.ruleName} ${r.constructPath}`));
    expect(mine).toEqual([]);
  });

  it('has no CloudFormation validation finding', () => {
    const reportFile = path.join(assembly.directory, 'validation-report.json');
    const report = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : { pluginReports: [] };
    const mine = report.pluginReports.flatMap((p: any) => p.violations)
      .filter((v: any) => v.violatingConstructs.some((c: any) => c.constructPath.startsWith(`${name}/Edge/`)));
    expect(mine).toEqual([]);
  });

  it('matches the snapshot', () => {
    expect(normaliseTemplate(template().toJSON())).toMatchSnapshot();
  });
});

describe('the edge outside us-east-1', () => {
  it('fails synth with a message naming the region and the fix', () => {
    const other = testApp();
    const stage = new Stage(other, 'elsewhere');
    const environment = { ...spec.environments.staging, region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] };
    const network = new NetworkStack(stage, 'Network', { spec, environment });
    expect(() => new EdgeStack(stage, 'Edge', { spec, environment, network }))
      .toThrow(/environments\.staging\.region = "eu-west-1".*CLOUDFRONT-scope WAF web ACL.*us-east-1/s);
  });
});

describe('an origin-secret rotation', () => {
  const [newVersion, oldVersion] = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
  const rotating = testApp();
  const stage = new Stage(rotating, 'staging');
  const environment = { ...spec.environments.staging, edge: { ...spec.environments.staging.edge, originVerifySecretVersionIds: [newVersion, oldVersion] } };
  const network = new NetworkStack(stage, 'Network', { spec, environment });
  const edge = new EdgeStack(stage, 'Edge', { spec, environment, network });
  const template = Template.fromStack(edge);
  const secretId = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0];

  it('sends the new version, accepts both, and updates the ALB before CloudFront', () => {
    const [distributionId, distribution] = Object.entries(template.findResources('AWS::CloudFront::Distribution'))[0];
    expect(distribution.Properties.DistributionConfig.Origins[0].OriginCustomHeaders[0].HeaderValue).toEqual(secretReference(secretId, newVersion));
    const [ruleId, rule] = Object.entries(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'))[0];
    expect(rule.Properties.Conditions[0].HttpHeaderConfig.Values).toEqual([secretReference(secretId, newVersion), secretReference(secretId, oldVersion)]);
    expect(template.toJSON().Resources[distributionId].DependsOn).toContain(ruleId);
  });
});
