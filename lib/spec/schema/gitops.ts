/**
 * Configuration disaster recovery by GitOps (docs/gitops.md): Flux reconciles each environment's
 * cluster to the rendered dist/<env>/ of one commit, pulled as an OCI artifact from the
 * environment's ECR repository.
 */
import { z } from 'zod';
import { duration } from './common';

/** A git commit, full length: an artifact tag that names exactly one rendered tree. */
export const gitCommit = z.string().regex(/^[0-9a-f]{40}$/, 'must be a full 40-character git commit sha');

/**
 * environments.<name>.gitops.revision: what the environment runs. A branch follows the newest
 * artifact CI published for it (a moving tag); a commit pins one immutable artifact, so the
 * environment's configuration at any moment is the commit written here.
 */
export const gitopsRevision = z.union([
  z.strictObject({ branch: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'must be a branch name usable as an OCI tag (lower case, digits, . _ -)') }),
  z.strictObject({ commit: gitCommit }),
]);
export type GitopsRevision = z.infer<typeof gitopsRevision>;

/** environments.<name>.gitops */
export const environmentGitops = z.strictObject({ revision: gitopsRevision });

/** gitops: the reconciler's timing, bounded by disasterRecovery.configuration (checks/gitops.ts). */
export const gitops = z.strictObject({
  /**
   * The source-controller and kustomize-controller release the cluster add-on runs (image tags)
   * and scripts/setup/flux.sh builds for the tests: one release for both.
   */
  fluxControllers: z.string().regex(/^v\d+\.\d+\.\d+$/, 'must be a release tag such as v1.9.6'),
  /** How often source-controller asks the registry whether the followed tag moved. */
  sourceInterval: duration,
  /** How often kustomize-controller re-applies the revision: the longest a hand edit survives. */
  driftInterval: duration,
  /** The wait before a failed reconciliation is tried again. */
  retryInterval: duration,
  /** The longest one apply plus the wait for every object's health may take. */
  applyTimeout: duration,
  /** ECR repository of the rendered manifests in each environment's account: `<project>/<name>`. */
  repositoryName: z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'must be an ECR repository name segment'),
});
