/** Rules of the edge: distinct names and secret versions, a prefix list per region, cache TTLs. */
import type { EnvironmentSpec, PlatformSpecFields as PlatformSpec } from '../schema';
import type { Report } from './report';

export function checkEnvironmentEdge(key: string, env: EnvironmentSpec, edgeSpec: PlatformSpec['edge'], issue: Report) {
  const at = (...rest: (string | number)[]) => ['environments', key, 'edge', ...rest];
  const { domainName, originDomainName } = env.edge;
  const versions = env.edge.originVerifySecretVersionIds;
  if (new Set(versions).size !== versions.length) issue(at('originVerifySecretVersionIds'), versions, 'must not repeat a version');
  if (originDomainName === domainName) {
    issue(at('originDomainName'), originDomainName, 'must differ from domainName: that name points at CloudFront, the origin name at the ALB');
  }
  if (edgeSpec.cloudFrontOriginFacingPrefixLists[env.region] === undefined) {
    issue(['edge', 'cloudFrontOriginFacingPrefixLists'], edgeSpec.cloudFrontOriginFacingPrefixLists,
      `has no entry for region ${env.region} of environment ${key}`);
  }
}

export function checkStaticPaths({ pathPatterns, defaultTtlSeconds, maxTtlSeconds }: PlatformSpec['edge']['staticPaths'], issue: Report) {
  if (defaultTtlSeconds > maxTtlSeconds) {
    issue(['edge', 'staticPaths', 'defaultTtlSeconds'], defaultTtlSeconds, `must be <= maxTtlSeconds (${maxTtlSeconds})`);
  }
  pathPatterns.forEach((pattern, i) => {
    if (pathPatterns.indexOf(pattern) !== i) issue(['edge', 'staticPaths', 'pathPatterns', i], pattern, 'duplicate path pattern');
  });
}
