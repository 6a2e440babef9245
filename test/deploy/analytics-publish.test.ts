/**
 * scripts/analytics/publish.ts against moto's S3 (a real S3 protocol peer on loopback): the
 * jar lands under the key the analytics stack names, with its checksum verified by the server,
 * a second publish changes nothing, and a missing bucket or jar says what to do.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { analyticsArtifactKey, analyticsSourceHash } from '../../lib/analytics/artifact';
import { PublishError, publishAnalyticsJar } from '../../scripts/analytics/publish';
import { startMoto } from '../helpers/moto';
import type { Moto } from '../helpers/moto';

let moto: Moto;
let s3: S3Client;
let dir: string;
let jarPath: string;
const bucket = 'platform-staging-artifacts-222222222222-us-east-1';

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({
    region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'publish-'));
  jarPath = path.join(dir, 'analytics-job.jar');
  // Not a real jar: the script moves bytes, and the bytes must arrive unchanged.
  fs.writeFileSync(jarPath, Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256)));
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => moto.reset());

const request = (overrides: Partial<Parameters<typeof publishAnalyticsJar>[0]> = {}) => ({
  s3, bucket, key: analyticsArtifactKey(), jarPath, sourceHash: analyticsSourceHash(), ...overrides,
});

it('uploads the jar under the source-hash key, byte for byte, with its provenance', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const result = await publishAnalyticsJar(request());
  expect(result.status).toBe('uploaded');
  expect(result.uri).toBe(`s3://${bucket}/${analyticsArtifactKey()}`);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: analyticsArtifactKey() }));
  expect(Buffer.from(await object.Body!.transformToByteArray())).toEqual(fs.readFileSync(jarPath));
  expect(object.Metadata).toEqual({ 'source-sha256': analyticsSourceHash(), 'jar-sha256': result.jarSha256 });
});

it('leaves a published key alone: a re-run uploads nothing', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  expect((await publishAnalyticsJar(request())).status).toBe('uploaded');
  expect((await publishAnalyticsJar(request())).status).toBe('present');
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  expect(versions.Versions ?? []).toHaveLength(1);
});

it('says to deploy the registry stack when the bucket is missing', async () => {
  const failure = await publishAnalyticsJar(request()).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(PublishError);
  expect((failure as Error).message).toBe(`bucket ${bucket} does not exist: deploy the registry stack first (README "Deploying")`);
});

it('says to build first when the jar is missing', async () => {
  await expect(publishAnalyticsJar(request({ jarPath: path.join(dir, 'nope.jar') }))).rejects.toThrow(/does not exist: build it with `npm run analytics:build`/);
});
