/**
 * The GitOps section of the spec: the reconciler's timing is bounded by the configuration row of
 * the DR targets, revisions are branches or full commits, and production pins a commit.
 */
import { durationSeconds, loadPlatformSpec } from '../../lib/spec';
import type { PlatformSpec } from '../../lib/spec';
import { fluxDuration, revisionTag } from '../../charts/gitops-chart';
import { problemsAfter } from '../helpers/spec';
import type { Mutable } from '../helpers/spec';

const spec = loadPlatformSpec();

describe('the gitops spec', () => {
  it('fits a fresh cluster\'s fetch and apply, and a drift correction, in the configuration RTO', () => {
    const rto = durationSeconds(spec.disasterRecovery.configuration!.rto);
    expect(durationSeconds(spec.gitops.sourceInterval) + durationSeconds(spec.gitops.applyTimeout)).toBeLessThanOrEqual(rto);
    expect(durationSeconds(spec.gitops.driftInterval)).toBeLessThanOrEqual(rto);
  });

  it('pins production to a commit and lets staging follow main', () => {
    expect(spec.environments.production.gitops.revision).toEqual({ commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(spec.environments.staging.gitops.revision).toEqual({ branch: 'main' });
    expect(revisionTag(spec.environments.staging.gitops.revision)).toBe('main');
  });

  it.each([['PT1M', '1m'], ['PT10M', '10m'], ['PT1H30M', '1h30m'], ['PT90S', '1m30s'], ['PT0S', '0s'], ['PT2H', '2h']])(
    'writes %s as Flux reads durations: %s', (iso, flux) => {
      expect(fluxDuration(iso)).toBe(flux);
    },
  );
});

describe('gitops validation names the field and the value', () => {
  it.each<[string, (d: Mutable<PlatformSpec>) => void, string]>([
    ['an apply timeout that with the source interval exceeds the RTO', (d) => { d.gitops.applyTimeout = 'PT30M'; },
      'gitops.applyTimeout = "PT30M": with gitops.sourceInterval (PT1M) exceeds disasterRecovery.configuration.rto (PT30M)'],
    ['a shorter RTO than the reconciler can meet', (d) => { d.disasterRecovery.configuration!.rto = 'PT5M'; },
      'gitops.driftInterval = "PT10M": exceeds disasterRecovery.configuration.rto (PT5M): drift must be reverted within the RTO'],
    ['a retry slower than the drift correction', (d) => { d.gitops.retryInterval = 'PT15M'; },
      'gitops.retryInterval = "PT15M": exceeds gitops.driftInterval (PT10M)'],
    ['production following a branch', (d) => { d.environments.production.gitops.revision = { branch: 'main' }; },
      'environments.production.gitops.revision = {"branch":"main"}: must pin a commit'],
    ['a short commit sha', (d) => { d.environments.production.gitops.revision = { commit: '2858195' }; },
      'environments.production.gitops.revision.commit = "2858195": must be a full 40-character git commit sha'],
    ['a branch that is no OCI tag', (d) => { d.environments.staging.gitops.revision = { branch: 'Feature/X' }; },
      'environments.staging.gitops.revision.branch = "Feature/X": must be a branch name usable as an OCI tag'],
    ['a controller release that is no tag', (d) => { d.gitops.fluxControllers = '1.9'; },
      'gitops.fluxControllers = "1.9": must be a release tag such as v1.9.6'],
    ['an interval that is not a duration', (d) => { d.gitops.sourceInterval = '1m'; },
      'gitops.sourceInterval = "1m": must be an ISO-8601 duration'],
  ])('%s', (_name, edit, message) => {
    expect(problemsAfter(edit)).toContain(message);
  });
});
