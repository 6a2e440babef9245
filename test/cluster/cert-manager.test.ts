// The local environment's certificates issued by cert-manager's own code: the controller of the
// release the spec pins (clusterAddons.certManager), built by scripts/setup/cert-manager.sh from
// the module's packages with our main, runs against a real kube-apiserver (test/harness) with the
// CRDs of that release. The charts' namespaces, PKI objects (selfSigned root ClusterIssuer, CA
// Certificate, CA ClusterIssuer) and every workload Certificate, rendered in memory for the local
// environment, are applied as they are; the Secrets cert-manager writes are then checked against
// what each Certificate asks for, and two real re-issue triggers are pulled.
// No nodes, kubelet or pods: nothing here needs one.
import 'reflect-metadata'; // @peculiar/x509 resolves its algorithms through tsyringe
import * as x509 from '@peculiar/x509';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { renderLocalCharts } from '../../scripts/local-cluster/platform';
import { loadPlatformSpec, localEnvironment } from '../../lib/spec';
import type { ChartEnvironment, PlatformSpec } from '../../lib/spec';
import { CERT_MANAGER_VERSION, findCertManager, startCertManager } from '../../scripts/local-cluster/cert-manager';
import type { CertManager } from '../../scripts/local-cluster/cert-manager';
import { startKubeApiServer } from '../harness';
import type { KubeApiServer } from '../harness';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: any;
}

interface Condition { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; observedGeneration?: number }

interface CertificateObject {
  metadata: { name: string; namespace: string; generation: number };
  spec: {
    secretName: string; commonName: string; dnsNames?: string[]; usages?: string[]; duration?: string; isCA?: boolean;
    privateKey?: { algorithm?: string; size?: number; rotationPolicy?: string };
    issuerRef: { name: string; kind: string };
  };
  status?: { conditions?: Condition[]; revision?: number };
}

interface SecretObject {
  type: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

const execFileAsync = promisify(execFile);
const spec: PlatformSpec = loadPlatformSpec();
const environment: ChartEnvironment = localEnvironment(spec);
const CERT_MANAGER_NAMESPACE = spec.clusterAddons.certManager.namespace;
/** A loaded 2-core machine: key generation and signing are fast, the API round trips are not. */
const ISSUE_TIMEOUT_MS = 240000;

const rendered = () => renderLocalCharts(spec, environment) as unknown as K8sObject[];

const objects = rendered();
const certificates = objects.filter((o) => o.kind === 'Certificate');
const caCertificate = certificates.find((c) => c.spec.isCA === true);
const workloadCertificates = certificates.filter((c) => c !== caCertificate);
const caIssuer = objects.find((o) => o.kind === 'ClusterIssuer' && o.spec.ca);

const certificatePath = (c: { metadata: { namespace?: string; name: string } }) =>
  `/apis/cert-manager.io/v1/namespaces/${c.metadata.namespace}/certificates/${c.metadata.name}`;
const secretPath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/secrets/${name}`;
const readyOf = (c: CertificateObject | undefined) => c?.status?.conditions?.find((x) => x.type === 'Ready');

/** The PEM blocks of a bundle, in order. */
const pemBlocks = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
const decode = (secret: SecretObject, key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

/** Go durations as the charts write them (`720h`, `87600h`, `90m`). */
function goDurationMs(value: string): number {
  const units: Record<string, number> = { h: 3600000, m: 60000, s: 1000 };
  const parts = [...value.matchAll(/(\d+)([hms])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value) throw new Error(`not a Go duration: ${value}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit!]!, 0);
}

const KEY_USAGE_FLAGS: Record<string, number> = {
  'digital signature': x509.KeyUsageFlags.digitalSignature,
  'key encipherment': x509.KeyUsageFlags.keyEncipherment,
  'cert sign': x509.KeyUsageFlags.keyCertSign,
};
const EXTENDED_KEY_USAGES: Record<string, string> = {
  'server auth': x509.ExtendedKeyUsage.serverAuth,
  'client auth': x509.ExtendedKeyUsage.clientAuth,
};

describe(`cert-manager ${CERT_MANAGER_VERSION} issuing the local environment's certificates`, () => {
  let kube: KubeApiServer | undefined;
  let certManager: CertManager | undefined;

  const get = async <T>(path: string): Promise<T | undefined> => {
    const res = await kube!.request<T>('GET', path);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  const getCertificate = (c: K8sObject) => get<CertificateObject>(certificatePath(c));
  const getSecret = (namespace: string, name: string) => get<SecretObject>(secretPath(namespace, name));

  /** One line per Certificate: what a timeout should show. */
  async function describeCertificates(): Promise<string> {
    const lines = await Promise.all(certificates.map(async (c) => {
      const current = await getCertificate(c);
      const conditions = (current?.status?.conditions ?? []).map((x) => `${x.type}=${x.status} ${x.reason ?? ''}: ${x.message ?? ''}`);
      return `${c.metadata.namespace}/${c.metadata.name} revision ${current?.status?.revision ?? '-'}: ${conditions.join('; ') || '(no conditions)'}`;
    }));
    return lines.join('\n');
  }

  async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    try {
      await certManager!.waitFor(what, check, ISSUE_TIMEOUT_MS);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nCertificates:\n${await describeCertificates()}`, { cause: error });
    }
  }

  /** Ready=True for the Certificate's current generation, at `revision` when given. */
  async function isIssued(c: K8sObject, revision?: number): Promise<boolean> {
    const current = await getCertificate(c);
    const ready = readyOf(current);
    return ready?.status === 'True' && ready.observedGeneration === current!.metadata.generation
      && (revision === undefined || current!.status?.revision === revision);
  }

  const apply = (items: readonly object[]) =>
    kube!.kubectl(['apply', '--server-side', '--field-manager=cert-manager-test', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));

  beforeAll(async () => {
    const { crdFiles } = findCertManager();
    // No controller manager: cert-manager is the only controller under test.
    kube = await startKubeApiServer({ controllers: [] });
    const files = crdFiles.flatMap((f) => ['-f', f]);
    await kube.kubectl(['apply', '--server-side', '--field-manager=cert-manager-test', ...files]);
    await kube.kubectl(['wait', '--for=condition=Established', '--timeout=120s', ...files]);
    certManager = await startCertManager({ kubeconfig: kube.kubeconfig, clusterResourceNamespace: CERT_MANAGER_NAMESPACE });

    // cert-manager's namespace comes with its Helm release (clusterAddons), the others with the charts.
    await apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CERT_MANAGER_NAMESPACE } },
      ...objects.filter((o) => o.kind === 'Namespace'),
    ]);
    await apply(objects.filter((o) => o.kind === 'ClusterIssuer' || o.kind === 'Certificate'));
  }, 360000);

  afterAll(async () => {
    await certManager?.dispose();
    await kube?.dispose();
  });

  test('the controller is the release the spec pins', async () => {
    expect(CERT_MANAGER_VERSION).toBe(spec.clusterAddons.certManager.version);
    const { stdout } = await execFileAsync(findCertManager().binary, ['-version']);
    expect(stdout.trim()).toBe(`cert-manager-controller ${spec.clusterAddons.certManager.version}`);
  });

  test('the rendered PKI is the self-signed one: a CA Certificate in cert-manager\'s namespace and workload Certificates', () => {
    expect(caCertificate?.metadata.namespace).toBe(CERT_MANAGER_NAMESPACE);
    expect(caIssuer?.spec.ca.secretName).toBe(caCertificate?.spec.secretName);
    expect(workloadCertificates.map((c) => c.metadata.name)).toEqual(expect.arrayContaining(spec.services.map((s) => s.name)));
    for (const c of workloadCertificates) expect(c.spec.issuerRef).toMatchObject({ kind: 'ClusterIssuer', name: caIssuer!.metadata.name });
  });

  test('every Certificate becomes Ready and both ClusterIssuers too', async () => {
    await waitFor('every Certificate Ready=True', async () => (await Promise.all(certificates.map((c) => isIssued(c, 1)))).every(Boolean));
    for (const issuer of objects.filter((o) => o.kind === 'ClusterIssuer')) {
      const current = await get<{ status?: { conditions?: Condition[] } }>(`/apis/cert-manager.io/v1/clusterissuers/${issuer.metadata.name}`);
      expect(current?.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ status: 'True' });
    }
  });

  describe('the Secrets cert-manager wrote', () => {
    let ca: X509Certificate;
    let caPem: string;

    beforeAll(async () => {
      const secret = await getSecret(CERT_MANAGER_NAMESPACE, caCertificate!.spec.secretName);
      if (!secret) throw new Error(`no CA Secret ${CERT_MANAGER_NAMESPACE}/${caCertificate!.spec.secretName}`);
      caPem = pemBlocks(decode(secret, 'tls.crt'))[0]!;
      ca = new X509Certificate(caPem);
    });

    test('the CA: self-signed by its own key, a CA for certificate signing, ECDSA P-256, ca.crt is itself', async () => {
      const secret = (await getSecret(CERT_MANAGER_NAMESPACE, caCertificate!.spec.secretName))!;
      expect(secret.type).toBe('kubernetes.io/tls');
      expect(ca.ca).toBe(true);
      expect(ca.checkIssued(ca)).toBe(true);
      expect(ca.verify(ca.publicKey)).toBe(true);
      expect(ca.checkPrivateKey(createPrivateKey(decode(secret, 'tls.key')))).toBe(true);
      expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      expect(ca.subject).toContain(`CN=${caCertificate!.spec.commonName}`);
      const usages = new x509.X509Certificate(caPem).getExtension(x509.KeyUsagesExtension)!.usages;
      expect(usages & x509.KeyUsageFlags.keyCertSign).toBeTruthy();
      expect(pemBlocks(decode(secret, 'ca.crt'))).toEqual([caPem]);
      const lifetime = Date.parse(ca.validTo) - Date.parse(ca.validFrom);
      expect(Math.abs(lifetime - goDurationMs(caCertificate!.spec.duration))).toBeLessThan(60000);
    });

    test.each(workloadCertificates.map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c] as const))(
      '%s: issued by the CA with the names, usages and key the Certificate asks for', async (_name, c) => {
        const secret = await getSecret(c.metadata.namespace!, c.spec.secretName);
        if (!secret) throw new Error(`no Secret ${c.metadata.namespace}/${c.spec.secretName}`);
        expect(secret.type).toBe('kubernetes.io/tls');
        expect(secret.metadata.annotations).toMatchObject({
          'cert-manager.io/certificate-name': c.metadata.name,
          'cert-manager.io/issuer-name': c.spec.issuerRef.name,
          'cert-manager.io/issuer-kind': c.spec.issuerRef.kind,
        });
        const chain = pemBlocks(decode(secret, 'tls.crt'));
        const leaf = new X509Certificate(chain[0]!);

        // Chains to the CA; ca.crt is the CA.
        expect(leaf.checkIssued(ca)).toBe(true);
        expect(leaf.verify(ca.publicKey)).toBe(true);
        expect(leaf.ca).toBe(false);
        for (const extra of chain.slice(1)) expect(extra).toBe(caPem);
        expect(pemBlocks(decode(secret, 'ca.crt'))).toEqual([caPem]);

        // The key the Certificate asks for, and it is tls.key's.
        expect(c.spec.privateKey).toMatchObject({ algorithm: 'ECDSA', size: 256 });
        expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
        expect(leaf.checkPrivateKey(createPrivateKey(decode(secret, 'tls.key')))).toBe(true);

        // Names: the common name and exactly the DNS names asked for.
        expect(leaf.subject).toBe(`CN=${c.spec.commonName}`);
        const sans = new x509.X509Certificate(chain[0]!).getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON();
        expect(sans.every((n) => n.type === 'dns')).toBe(true);
        expect(sans.map((n) => n.value).sort()).toEqual([...c.spec.dnsNames].sort());

        // Usages: exactly those asked for, split into key usage and extended key usage.
        const asked: string[] = c.spec.usages;
        const parsed = new x509.X509Certificate(chain[0]!);
        const keyUsages = asked.filter((u) => u in KEY_USAGE_FLAGS).reduce((flags, u) => flags | KEY_USAGE_FLAGS[u]!, 0);
        const extended = asked.filter((u) => u in EXTENDED_KEY_USAGES).map((u) => EXTENDED_KEY_USAGES[u]);
        expect(asked.filter((u) => !(u in KEY_USAGE_FLAGS) && !(u in EXTENDED_KEY_USAGES))).toEqual([]);
        expect(parsed.getExtension(x509.KeyUsagesExtension)!.usages).toBe(keyUsages);
        expect([...parsed.getExtension(x509.ExtendedKeyUsageExtension)!.usages].map(String).sort()).toEqual(extended.sort());

        // The duration asked for.
        const lifetime = Date.parse(leaf.validTo) - Date.parse(leaf.validFrom);
        expect(Math.abs(lifetime - goDurationMs(c.spec.duration))).toBeLessThan(60000);
      });
  });

  /** The issued certificate and its key's SPKI, to compare across a re-issue. */
  async function issued(c: K8sObject): Promise<{ serial: string; key: string; cert: X509Certificate }> {
    const secret = await getSecret(c.metadata.namespace!, c.spec.secretName);
    if (!secret) throw new Error(`no Secret ${c.metadata.namespace}/${c.spec.secretName}`);
    const cert = new X509Certificate(pemBlocks(decode(secret, 'tls.crt'))[0]!);
    const key = createPrivateKey(decode(secret, 'tls.key'));
    expect(cert.checkPrivateKey(key)).toBe(true);
    return { serial: cert.serialNumber, key: cert.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), cert };
  }

  const caCert = async () => new X509Certificate(pemBlocks(decode((await getSecret(CERT_MANAGER_NAMESPACE, caCertificate!.spec.secretName))!, 'tls.crt'))[0]!);

  test('rotationPolicy Always: a manual re-issue (`cmctl renew`) puts a new key in the same Secret', async () => {
    const c = workloadCertificates.find((x) => x.metadata.name === spec.services[0]!.name)!;
    expect(c.spec.privateKey.rotationPolicy).toBe('Always');
    await waitFor(`${c.metadata.name} Ready=True`, () => isIssued(c));
    const before = await issued(c);
    const revision = (await getCertificate(c))!.status!.revision!;

    // What `cmctl renew` does: the Issuing condition set on the status. The key manager keeps the
    // Secret's key unless the policy says Always.
    await waitFor(`${c.metadata.name}: the Issuing condition set`, async () => {
      const current = (await getCertificate(c))!;
      const conditions = (current.status?.conditions ?? []).filter((x) => x.type !== 'Issuing');
      conditions.push({
        type: 'Issuing', status: 'True', reason: 'ManuallyTriggered', message: 'Certificate re-issuance manually triggered',
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), observedGeneration: current.metadata.generation,
      });
      const res = await kube!.request('PUT', `${certificatePath(c)}/status`, { body: { ...current, status: { ...current.status, conditions } } });
      if (res.status === 409) return false; // a controller wrote first: read and try again
      if (res.status !== 200) throw new Error(`PUT ${certificatePath(c)}/status: ${res.status} ${res.text}`);
      return true;
    });
    await waitFor(`${c.metadata.name} re-issued (revision ${revision + 1}, Ready=True)`, () => isIssued(c, revision + 1));

    const after = await issued(c);
    expect(after.serial).not.toBe(before.serial);
    expect(after.key).not.toBe(before.key);
    expect(after.cert.checkIssued(await caCert())).toBe(true);
  });

  test('a deleted Secret is issued again, with a new key', async () => {
    const c = workloadCertificates.find((x) => x.metadata.name === spec.services[1]!.name)!;
    await waitFor(`${c.metadata.name} Ready=True`, () => isIssued(c));
    const before = await issued(c);
    const revision = (await getCertificate(c))!.status!.revision!;

    const res = await kube!.request('DELETE', secretPath(c.metadata.namespace!, c.spec.secretName));
    expect(res.status).toBe(200);
    await waitFor(`${c.metadata.name} re-issued after its Secret was deleted`, async () =>
      (await isIssued(c, revision + 1)) && (await getSecret(c.metadata.namespace!, c.spec.secretName)) !== undefined);

    const after = await issued(c);
    expect(after.serial).not.toBe(before.serial);
    expect(after.key).not.toBe(before.key);
    expect(after.cert.checkIssued(await caCert())).toBe(true);
  });
});
