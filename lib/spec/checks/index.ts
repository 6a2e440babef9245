/**
 * The spec's cross-field rules, one module per domain. Each reports through `issue` and goes on,
 * so a load lists every problem at once, each at the field it concerns.
 */
import type { PlatformSpecFields as PlatformSpec } from '../schema';
import { checkAnalytics } from './analytics';
import { checkDataTier } from './data-tier';
import { checkDrRegionApart, checkDrRegionZones } from './dr';
import { checkEnvironmentEdge, checkStaticPaths } from './edge';
import { checkGitops } from './gitops';
import { checkCertificateIssuers, checkLocalCluster } from './local-cluster';
import { checkEnvironment } from './network';
import { checkObservability } from './observability';
import type { Report } from './report';
import { checkVault } from './vault';
import { checkPorts, checkServiceRoles, checkServices, checkWorkloads } from './workloads';

export type { Report } from './report';
export { PGBOUNCER_POOLS, pgbouncerClientConnectionsPerPod, pgbouncerServerConnectionsPerPod, serviceDatabaseCount, serviceShutdownGraceMs } from './workloads';

export function checkPlatformSpec(spec: PlatformSpec, issue: Report) {
  checkObservability(spec, issue);
  checkWorkloads(spec, issue);
  checkPorts(spec, issue);
  checkVault(spec, issue);
  checkDataTier(spec, issue);
  checkAnalytics(spec, issue);
  checkStaticPaths(spec.edge.staticPaths, issue);
  checkServices(spec, issue);
  checkServiceRoles(spec, issue);
  for (const [key, env] of Object.entries(spec.environments)) {
    checkEnvironment(key, env, issue);
    checkEnvironmentEdge(key, env, spec.edge, issue);
    checkDrRegionApart(key, env, spec.drRegion, issue);
  }
  checkDrRegionZones(spec.drRegion, issue);
  checkGitops(spec, issue);
  checkLocalCluster(spec, issue);
  checkCertificateIssuers(spec, issue);
}
