/**
 * `ops config-publish <env> [--execute]`: CI's step on a commit of main, once its images are
 * pushed. Renders the environment's charts as dist/<env>/ (images tagged with the commit, as CI
 * tags them) and pushes them as the OCI artifact Flux pulls (scripts/gitops/artifact.ts) to the
 * environment's ECR repository, tagged with the commit and, for an environment that follows a
 * branch, with that branch when the commit is on it (docs/gitops.md). A pinned environment only
 * ever gets commit tags: promotion is the reviewed change of its revision in the spec.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { configRepositoryUrl } from '../../../lib/spec/topology';
import { renderCharts } from '../../../charts/main';
import { pushManifests } from '../../gitops/artifact';
import { EXECUTE_FLAG, OpsError, soleEnvironmentArg } from '../command';
import type { OpsArgs, OpsCommand } from '../command';
import { OfflinePlanBuilder } from '../offline-plan';
import type { EnvironmentSpec, PlatformSpec } from '../../../lib/spec';

const IMAGE_TAG_FLAG = 'image-tag';
const REPOSITORY_FLAG = 'repository';
const CA_FILE_FLAG = 'ca-file';
const BRANCH_FLAG = 'branch';

export interface ConfigPublishResult {
  readonly environment: string;
  readonly mode: 'plan' | 'executed';
  readonly repository: string;
  readonly tags: readonly string[];
  readonly commit: string;
  readonly imageTag: string;
  /** The rendered files the artifact holds. */
  readonly files: readonly string[];
  readonly digest: string | null;
}

/** git in the working directory: the command publishes the commit checked out where it runs. */
function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    throw new OpsError(`git ${args.join(' ')}: ${((error as { stderr?: string }).stderr ?? String(error)).trim()}`);
  }
}

interface PublishPlan {
  readonly environment: EnvironmentSpec;
  readonly repository: string;
  readonly tags: string[];
  readonly commit: string;
  readonly created: string;
  readonly imageTag: string;
}

function publishPlan(spec: PlatformSpec, args: OpsArgs): PublishPlan {
  const environment = soleEnvironmentArg(spec, args);
  // The artifact names a commit: what it holds must be that commit's rendering.
  if (git(['status', '--porcelain', '--untracked-files=no'])) throw new OpsError('the working tree has uncommitted changes: publish renders of a commit only');
  const commit = git(['rev-parse', 'HEAD']);
  const created = git(['show', '-s', '--format=%cI', 'HEAD']);
  const tags = [commit];
  const { revision } = environment.gitops;
  if ('branch' in revision) {
    // CI names the branch it builds (a detached checkout has none); else the checked-out branch.
    const branch = typeof args.values[BRANCH_FLAG] === 'string' ? args.values[BRANCH_FLAG] : git(['rev-parse', '--abbrev-ref', 'HEAD']);
    if (branch === revision.branch) tags.push(revision.branch);
  }
  const repository = typeof args.values[REPOSITORY_FLAG] === 'string' ? args.values[REPOSITORY_FLAG] : configRepositoryUrl(spec, environment);
  const imageTag = typeof args.values[IMAGE_TAG_FLAG] === 'string' ? args.values[IMAGE_TAG_FLAG] : commit;
  return { environment, repository, tags, commit, created, imageTag };
}

async function push(plan: PublishPlan, manifestsDir: string, args: OpsArgs, log: (line: string) => void): Promise<string> {
  // Another registry (a mirror, the tests' registry) signs in its own way; ECR with the caller's AWS identity.
  let credentials: { username: string; password: string } | undefined;
  if (typeof args.values[REPOSITORY_FLAG] !== 'string') {
    const ecr = new ECRClient({ region: plan.environment.region });
    const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData?.[0]?.authorizationToken;
    if (!token) throw new OpsError('ECR returned no authorization token');
    const [username, password] = Buffer.from(token, 'base64').toString('utf8').split(':');
    credentials = { username: username!, password: password! };
  }
  log(`pushing ${manifestsDir} to ${plan.repository}:${plan.tags.join(',')} ...`);
  const pushed = await pushManifests({
    repository: plan.repository, tags: plan.tags, manifestsDir, revision: plan.commit, created: plan.created,
    caFile: typeof args.values[CA_FILE_FLAG] === 'string' ? args.values[CA_FILE_FLAG] : undefined,
    credentials,
  });
  return pushed.digest;
}

export const configPublishCommand: OpsCommand<ConfigPublishResult> = {
  name: 'config-publish',
  summary: 'push the rendered dist/<env>/ of this commit as the artifact Flux pulls (dry run unless --execute)',
  usage: `config-publish <env> [--${EXECUTE_FLAG}] [--${BRANCH_FLAG} <name>] [--${IMAGE_TAG_FLAG} <tag>] [--${REPOSITORY_FLAG} <host/repo> [--${CA_FILE_FLAG} <pem>]]`,
  options: {
    [EXECUTE_FLAG]: { type: 'boolean' }, [BRANCH_FLAG]: { type: 'string' }, [IMAGE_TAG_FLAG]: { type: 'string' },
    [REPOSITORY_FLAG]: { type: 'string' }, [CA_FILE_FLAG]: { type: 'string' },
  },
  async run(args, { spec, log }) {
    const plan = publishPlan(spec, args);
    const work = mkdtempSync(join(tmpdir(), 'platform-publish-'));
    try {
      const files = renderCharts(spec, work, { imageTag: plan.imageTag })
        .filter((file) => file.startsWith(join(work, plan.environment.name, '/')))
        .map((file) => file.slice(join(work, plan.environment.name, '/').length));
      const base = {
        environment: plan.environment.name, repository: plan.repository, tags: plan.tags, commit: plan.commit, imageTag: plan.imageTag, files,
      };
      if (args.values[EXECUTE_FLAG] !== true) return { ...base, mode: 'plan', digest: null };
      const digest = await push(plan, join(work, plan.environment.name), args, log);
      return { ...base, mode: 'executed', digest };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
  offline(args, context) {
    const { spec } = context;
    const plan = publishPlan(spec, args);
    const builder = new OfflinePlanBuilder(context, 'config-publish', plan.environment.name);
    builder.step({ region: plan.environment.region, call: 'ecr:GetAuthorizationToken', target: plan.repository, kind: 'read', purpose: 'sign oras in to the registry' });
    builder.step({ region: plan.environment.region, call: 'ecr:PutImage', target: `${plan.repository}:${plan.tags.join(',')}`, kind: 'change', purpose: `the charts of ${plan.environment.name} rendered at ${plan.commit} (images tagged ${plan.imageTag})` });
    builder.unknown('digest', 'the pushed manifest\'s digest (reproducible for one commit); online: oras push');
    return builder.build(`publish ${plan.environment.name}'s rendered charts as ${plan.repository}:${plan.tags.join(',')}`);
  },
  render(r) {
    return [
      r.mode === 'plan'
        ? `PLAN (dry run, nothing pushed; re-run with --${EXECUTE_FLAG} to push): ${r.environment} -> ${r.repository}:${r.tags.join(',')}`
        : `PUBLISHED: ${r.repository}@${r.digest} tagged ${r.tags.join(', ')}`,
      `commit: ${r.commit}, images tagged ${r.imageTag}`,
      `files: ${r.files.join(', ')}`,
    ].join('\n');
  },
};
