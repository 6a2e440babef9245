/**
 * The rendered manifests of one environment as the OCI artifact Flux's OCIRepository reads: a
 * gzipped tarball of dist/<env>/ (media types of `flux push artifact`), pushed with oras. The
 * tarball is reproducible (sorted names, fixed owner and time, no gzip timestamp) and the manifest
 * carries the commit's time instead of the push time, so one commit always gives one digest.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, HarnessError, installed } from '../local-stack/process';

const execFileAsync = promisify(execFile);

export const CONFIG_ARTIFACT_TYPE = 'application/vnd.cncf.flux.config.v1+json';
export const CONTENT_MEDIA_TYPE = 'application/vnd.cncf.flux.content.v1.tar+gzip';
const LAYER_NAME = 'manifests.tar.gz';

/** oras as scripts/setup/flux.sh builds it. */
export function orasBinary(root = cacheDir('flux', 'bin')): string {
  return installed(join(root, 'oras'), { script: 'flux.sh', what: 'oras' });
}

/** Writes `dir`'s *.yaml files as a reproducible tar.gz; refuses an empty or missing folder. */
export async function packManifests(dir: string, outFile: string): Promise<string[]> {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort() : [];
  if (files.length === 0) throw new HarnessError(`${dir}: no rendered manifests (*.yaml); run \`npm run synth\` first`);
  // GNU tar's reproducibility flags; gzip -n leaves out the name and time.
  await execFileAsync('bash', ['-c',
    'set -o pipefail; tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=ustar -C "$1" -cf - -- "${@:3}" | gzip -n -9 > "$2"',
    'pack', dir, outFile, ...files]);
  return files;
}

export interface PushManifestsOptions {
  /** `host[:port]/repository` (no scheme, no tag). */
  readonly repository: string;
  /** Tags to push the one artifact under (a commit, and the branch it follows). */
  readonly tags: readonly string[];
  readonly manifestsDir: string;
  /** The commit the manifests were rendered from (org.opencontainers.image.revision). */
  readonly revision: string;
  /** RFC 3339 time of that commit (org.opencontainers.image.created), for a reproducible digest. */
  readonly created: string;
  /** Where the revision lives (org.opencontainers.image.source). */
  readonly source?: string;
  /** CA of a registry with a private certificate (the tests' registry). */
  readonly caFile?: string;
  /** A registry without TLS (the local cluster's, beside the node). */
  readonly plainHttp?: boolean;
  readonly credentials?: { readonly username: string; readonly password: string };
  readonly oras?: string;
}

export interface PushedArtifact {
  readonly reference: string;
  readonly digest: string;
  readonly files: readonly string[];
}

export async function pushManifests(options: PushManifestsOptions): Promise<PushedArtifact> {
  if (options.tags.length === 0) throw new HarnessError('pushManifests: no tag to push');
  const oras = options.oras ?? orasBinary();
  const work = await mkdtemp(join(tmpdir(), 'platform-artifact-'));
  try {
    const files = await packManifests(options.manifestsDir, join(work, LAYER_NAME));
    // A registry config of its own: no login is written to ~/.docker.
    const registryConfig = join(work, 'registry.json');
    await writeFile(registryConfig, '{}');
    const common = ['--registry-config', registryConfig, ...(options.caFile ? ['--ca-file', options.caFile] : []), ...(options.plainHttp ? ['--plain-http'] : [])];
    if (options.credentials) {
      const host = options.repository.split('/')[0]!;
      await run(oras, ['login', ...common, '--username', options.credentials.username, '--password-stdin', host], work, options.credentials.password);
    }
    const reference = `${options.repository}:${options.tags.join(',')}`;
    const annotations = [
      `org.opencontainers.image.revision=${options.revision}`,
      `org.opencontainers.image.created=${options.created}`,
      ...(options.source ? [`org.opencontainers.image.source=${options.source}`] : []),
    ].flatMap((a) => ['--annotation', a]);
    const out = await run(oras, ['push', ...common, '--artifact-type', CONFIG_ARTIFACT_TYPE, ...annotations,
      '--format', 'json', reference, `${LAYER_NAME}:${CONTENT_MEDIA_TYPE}`], work);
    const digest = (JSON.parse(out) as { digest?: string }).digest;
    if (!digest?.startsWith('sha256:')) throw new HarnessError(`oras push ${reference}: no digest in its output: ${out.slice(0, 500)}`);
    return { reference, digest, files };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function run(command: string, args: string[], cwd: string, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new HarnessError(`${command.split('/').pop()} ${args[0]}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input ?? '');
  });
}
