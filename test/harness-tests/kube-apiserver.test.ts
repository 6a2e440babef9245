import { existsSync, readFileSync } from 'node:fs';
import { loadPlatformSpec } from '../../lib/spec';
import { KUBERNETES_VERSION, startKubeApiServer, type KubeApiServer } from '../harness';

let kube: KubeApiServer;

beforeAll(async () => {
  kube = await startKubeApiServer();
}, 300000);

afterAll(async () => {
  await kube?.dispose();
});

describe('startKubeApiServer', () => {
  test("runs the Kubernetes minor the clusters run (lib/spec kubernetesVersion), over TLS with the test CA", async () => {
    const version = (await kube.request('GET', '/version')).body;
    expect(`v${version.major}.${version.minor}`).toBe(`v${loadPlatformSpec().environments.production.cluster.kubernetesVersion}`);
    expect(version.gitVersion).toBe(KUBERNETES_VERSION);
    expect(kube.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(readFileSync(kube.caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  test('kubectl with the admin kubeconfig creates and reads objects', async () => {
    await kube.kubectl(['create', 'namespace', 'probe']);
    await kube.kubectl(['create', 'serviceaccount', 'app', '--namespace', 'probe']);
    expect(JSON.parse(await kube.kubectl(['get', 'serviceaccount', 'app', '--namespace', 'probe', '-o', 'json'])).metadata.name).toBe('app');
  });

  test('authenticates with RBAC: an account may do what it is bound to, nothing else', async () => {
    const token = await kube.createToken('probe', 'app', { audiences: ['vault'] });
    const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: ['vault'] } };
    // A token meant for another audience does not authenticate to the API server at all.
    expect((await kube.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: review, token })).status).toBe(401);
    // The account's API token authenticates, but unbound it may not review tokens.
    const own = await kube.createToken('probe', 'app');
    expect((await kube.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: review, token: own })).status).toBe(403);
    // As the admin: the token is valid for that account and audience.
    const res = await kube.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: review });
    expect(res.body.status).toMatchObject({ authenticated: true, audiences: ['vault'], user: { username: 'system:serviceaccount:probe:app' } });
  });

  test('fills a service-account-token Secret (the token controller runs)', async () => {
    await kube.request('POST', '/api/v1/namespaces/probe/secrets', {
      body: { metadata: { name: 'app-token', annotations: { 'kubernetes.io/service-account.name': 'app' } }, type: 'kubernetes.io/service-account-token' },
    });
    let token: string | undefined;
    for (let i = 0; i < 100 && !token; i++) {
      token = (await kube.request('GET', '/api/v1/namespaces/probe/secrets/app-token')).body.data?.token;
      if (!token) await new Promise((r) => setTimeout(r, 100));
    }
    expect(Buffer.from(token!, 'base64').toString().split('.')).toHaveLength(3);
  });

  test('dispose stops every process and deletes its folder', async () => {
    const other = await startKubeApiServer({ ca: kube.ca, controllers: [] });
    expect(existsSync(other.dir)).toBe(true);
    await other.dispose();
    expect(existsSync(other.dir)).toBe(false);
    await expect(other.request('GET', '/readyz')).rejects.toThrow(/ECONNREFUSED/);
  });
});
