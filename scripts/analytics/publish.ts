/**
 * `npm run analytics:publish -- <environment>`: builds the analytics job (Maven, via
 * scripts/analytics/build.sh) and uploads the jar to the registry stack's artifacts bucket under
 * the key the analytics stack names (lib/analytics/artifact.ts: a hash of the job's sources).
 * Run it after deploying the registry stack and before deploying the analytics stack, like
 * pushing the services' images. Idempotent: a key already present is left alone (same sources,
 * same jar: the build is reproducible), so re-running costs one HEAD request.
 *
 * Credentials and region come from the usual AWS environment (profile, SSO, role); the bucket's
 * region is the environment's.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HeadObjectCommand, NotFound, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ANALYTICS_JAR, analyticsArtifactKey, analyticsSourceHash, artifactsBucketName } from '../../lib/analytics/artifact';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import type { EnvironmentName } from '../../lib/spec';

export interface PublishRequest {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly jarPath: string;
  /** Recorded on the object, so anyone can tell which sources a jar was built from. */
  readonly sourceHash: string;
}

export interface PublishResult {
  readonly status: 'uploaded' | 'present';
  readonly uri: string;
  readonly jarSha256: string;
}

export class PublishError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PublishError';
  }
}

/** Uploads `jarPath` to s3://bucket/key unless an object is there already. */
export async function publishAnalyticsJar(request: PublishRequest): Promise<PublishResult> {
  const { s3, bucket, key, jarPath, sourceHash } = request;
  const uri = `s3://${bucket}/${key}`;
  if (!fs.existsSync(jarPath)) throw new PublishError(`${jarPath} does not exist: build it with \`npm run analytics:build\``);
  const jar = fs.readFileSync(jarPath);
  const digest = createHash('sha256').update(jar).digest();
  const jarSha256 = digest.toString('hex');

  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { status: 'present', uri, jarSha256 };
  } catch (error) {
    if (!(error instanceof NotFound) && !isStatus(error, 404)) throw explain(error, bucket, uri);
  }
  try {
    await s3.send(new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: jar,
      ContentType: 'application/java-archive',
      // S3 verifies the bytes it stores against this digest and refuses a corrupted upload.
      ChecksumSHA256: digest.toString('base64'),
      Metadata: { 'source-sha256': sourceHash, 'jar-sha256': jarSha256 },
    }));
  } catch (error) {
    throw explain(error, bucket, uri);
  }
  return { status: 'uploaded', uri, jarSha256 };
}

function isStatus(error: unknown, status: number): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === status;
}

function explain(error: unknown, bucket: string, uri: string): Error {
  if (error instanceof S3ServiceException && (error.name === 'NoSuchBucket' || (isStatus(error, 404)))) {
    return new PublishError(`bucket ${bucket} does not exist: deploy the registry stack first (README "Deploying")`, { cause: error });
  }
  if (isStatus(error, 403)) {
    return new PublishError(`access denied writing ${uri}: use credentials of the environment's account with s3:PutObject on the bucket and kms:GenerateDataKey on its key`, { cause: error });
  }
  return new PublishError(`publishing ${uri} failed: ${(error as Error).message}`, { cause: error });
}

function usage(): never {
  console.error(`usage: npm run analytics:publish -- <${ENVIRONMENT_NAMES.join('|')}>`);
  process.exit(2);
}

async function main(argv: string[]) {
  const [name, ...rest] = argv;
  if (!name || rest.length > 0) usage();
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(name)) {
    console.error(`analytics:publish: unknown environment "${name}" (one of ${ENVIRONMENT_NAMES.join(', ')})`);
    process.exit(2);
  }
  const spec = loadPlatformSpec({ env: process.env });
  const environment = spec.environments[name as EnvironmentName];
  const repository = path.resolve(__dirname, '..', '..');
  execFileSync('bash', [path.join(repository, 'scripts', 'analytics', 'build.sh')], { stdio: 'inherit', cwd: repository });
  const result = await publishAnalyticsJar({
    s3: new S3Client({ region: environment.region }),
    bucket: artifactsBucketName(spec, environment),
    key: analyticsArtifactKey(),
    jarPath: ANALYTICS_JAR,
    sourceHash: analyticsSourceHash(),
  });
  console.log(`${result.status === 'uploaded' ? 'uploaded' : 'already published'}: ${result.uri} (jar sha256 ${result.jarSha256})`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(`analytics:publish: ${error.message}`);
    process.exit(1);
  });
}
