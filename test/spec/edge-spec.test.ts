import { loadPlatformSpec } from '../../lib/spec';
import type { PlatformSpec } from '../../lib/spec';
import { problemsAfter } from '../helpers/spec';
import type { Mutable } from '../helpers/spec';

const spec = loadPlatformSpec();

describe('the edge spec', () => {
  it('names certificates by their ACM id: the account, region and partition come from the environment', () => {
    for (const env of Object.values(spec.environments)) {
      for (const id of [env.edge.cloudFrontCertificateId, env.edge.loadBalancerCertificateId]) {
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      }
    }
  });

  it('knows the CloudFront origin-facing prefix list of every environment region', () => {
    expect(spec.edge.cloudFrontOriginFacingPrefixLists['us-east-1']).toBe('pl-3b927c52');
    for (const env of Object.values(spec.environments)) expect(spec.edge.cloudFrontOriginFacingPrefixLists[env.region]).toBeDefined();
  });

  it('caches only the static paths and health-checks the gateway on its readiness path', () => {
    expect(spec.edge.staticPaths.pathPatterns).toEqual(['/static/*']);
    expect(spec.services.find((s) => s.name === 'api-gateway')).toMatchObject({ port: 8000, healthPort: 9000, readinessPath: '/readyz' });
  });
});

describe('edge validation names the field and the value', () => {
  it.each<[string, (d: Mutable<PlatformSpec>) => void, string]>([
    ['an ARN where the certificate id belongs (it would pin another account)', (d) => {
      d.environments.production.edge.cloudFrontCertificateId = 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000011';
    }, 'environments.production.edge.cloudFrontCertificateId = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-4000-8000-000000000011": must be an ACM certificate id (the UUID that ends its ARN)'],
    ['certificate id that is not a UUID', (d) => { d.environments.production.edge.loadBalancerCertificateId = 'my-cert'; },
      'environments.production.edge.loadBalancerCertificateId = "my-cert": must be an ACM certificate id (the UUID that ends its ARN)'],
    ['domain name with upper case', (d) => { d.environments.production.edge.domainName = 'API.example.com'; },
      'environments.production.edge.domainName = "API.example.com": must be a lower-case DNS name'],
    ['origin name equal to the public name', (d) => { d.environments.staging.edge.originDomainName = d.environments.staging.edge.domainName; },
      'environments.staging.edge.originDomainName = "api.staging.platform.example.com": must differ from domainName'],
    ['WAF rate limit below the WAF minimum', (d) => { d.environments.production.edge.wafRateLimitPer5Minutes = 5; },
      'environments.production.edge.wafRateLimitPer5Minutes = 5: must be >= 10 (WAF minimum)'],
    ['WAF rate limit that is not an integer', (d) => { d.environments.staging.edge.wafRateLimitPer5Minutes = 100.5; },
      'environments.staging.edge.wafRateLimitPer5Minutes = 100.5:'],
    ['WAF log retention CloudWatch does not offer', (d) => { d.environments.production.edge.wafLogRetentionDays = 100; },
      'environments.production.edge.wafLogRetentionDays = 100: must be a CloudWatch Logs retention period'],
    ['access-log expiry of 0 days', (d) => { d.environments.staging.edge.accessLogExpirationDays = 0; },
      'environments.staging.edge.accessLogExpirationDays = 0: must be >= 1'],
    ['secret version that is not a version id', (d) => { d.environments.production.edge.originVerifySecretVersionIds = ['v2']; },
      'environments.production.edge.originVerifySecretVersionIds.0 = "v2": must be a Secrets Manager version id'],
    ['three secret versions', (d) => {
      d.environments.production.edge.originVerifySecretVersionIds = [1, 2, 3].map((i) => `00000000-0000-4000-8000-00000000000${i}`);
    }, 'environments.production.edge.originVerifySecretVersionIds = ["00000000-0000-4000-8000-000000000001","00000000-0000-4000-8000-000000000002","00000000-0000-4000-8000-000000000003"]: must list at most 2 versions'],
    ['repeated secret version', (d) => {
      d.environments.staging.edge.originVerifySecretVersionIds = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001'];
    }, 'environments.staging.edge.originVerifySecretVersionIds = ["00000000-0000-4000-8000-000000000001","00000000-0000-4000-8000-000000000001"]: must not repeat a version'],
    ['no prefix list for an environment region', (d) => { d.edge.cloudFrontOriginFacingPrefixLists = { 'eu-west-1': 'pl-4fa04526' }; },
      'edge.cloudFrontOriginFacingPrefixLists = {"eu-west-1":"pl-4fa04526"}: has no entry for region us-east-1 of environment production'],
    ['prefix list id typo', (d) => { d.edge.cloudFrontOriginFacingPrefixLists['us-east-1'] = 'pl-xyz'; },
      'edge.cloudFrontOriginFacingPrefixLists.us-east-1 = "pl-xyz": must be a managed prefix list id'],
    ['static path without a leading slash', (d) => { d.edge.staticPaths.pathPatterns = ['static/*']; },
      'edge.staticPaths.pathPatterns.0 = "static/*": must be a CloudFront path pattern starting with /'],
    ['static path that would cache the whole API', (d) => { d.edge.staticPaths.pathPatterns = ['/*']; },
      'edge.staticPaths.pathPatterns.0 = "/*": must not be /* (that is the default behaviour: the API, never cached)'],
    ['duplicate static path', (d) => { d.edge.staticPaths.pathPatterns = ['/static/*', '/static/*']; },
      'edge.staticPaths.pathPatterns.1 = "/static/*": duplicate path pattern'],
    ['default TTL above the max TTL', (d) => { d.edge.staticPaths.defaultTtlSeconds = 10; d.edge.staticPaths.maxTtlSeconds = 5; },
      'edge.staticPaths.defaultTtlSeconds = 10: must be <= maxTtlSeconds (5)'],
    ['origin header that is not a custom lower-case header', (d) => { d.edge.originVerifyHeaderName = 'Authorization'; },
      'edge.originVerifyHeaderName = "Authorization": must be a lower-case custom header name'],
    ['readiness path that is not a path', (d) => { d.services[0].readinessPath = 'readyz'; },
      'services.0.readinessPath = "readyz": must be an absolute URL path such as /readyz'],
  ])('rejects %s', (_label, edit, expected) => {
    expect(problemsAfter(edit)).toContain(expected);
  });

  it('rejects a missing edge block naming it', () => {
    expect(problemsAfter((d) => { delete (d.environments.staging as Partial<typeof d.environments.staging>).edge; }))
      .toContain('environments.staging.edge');
  });
});
