/**
 * Rules of the GitOps reconciler: its timing fits the configuration row of the DR targets, and
 * production runs a pinned commit.
 */
import { parseDurationSeconds } from '../parse';
import type { PlatformSpecFields as PlatformSpec } from '../schema';
import type { Report } from './report';

export function checkGitops(spec: PlatformSpec, issue: Report) {
  const { gitops } = spec;
  const configuration = spec.disasterRecovery.configuration;
  const rto = configuration ? parseDurationSeconds(configuration.rto) : undefined;
  const seconds = (field: keyof typeof gitops) => parseDurationSeconds(gitops[field] as string);
  const source = seconds('sourceInterval');
  const drift = seconds('driftInterval');
  const retry = seconds('retryInterval');
  const apply = seconds('applyTimeout');
  if (rto !== undefined && source !== undefined && apply !== undefined && source + apply > rto) {
    issue(['gitops', 'applyTimeout'], gitops.applyTimeout,
      `with gitops.sourceInterval (${gitops.sourceInterval}) exceeds disasterRecovery.configuration.rto (${configuration!.rto}): an empty cluster must get the revision and apply it within the RTO`);
  }
  if (rto !== undefined && drift !== undefined && drift > rto) {
    issue(['gitops', 'driftInterval'], gitops.driftInterval, `exceeds disasterRecovery.configuration.rto (${configuration!.rto}): drift must be reverted within the RTO`);
  }
  if (retry !== undefined && drift !== undefined && retry > drift) {
    issue(['gitops', 'retryInterval'], gitops.retryInterval, `exceeds gitops.driftInterval (${gitops.driftInterval}): a failed revision would wait longer than a healthy one`);
  }
  if ('branch' in spec.environments.production.gitops.revision) {
    issue(['environments', 'production', 'gitops', 'revision'], spec.environments.production.gitops.revision,
      'must pin a commit ({ commit: <sha> }): production runs a promoted, immutable revision, not a moving branch');
  }
}
