/**
 * The contract between the charts and Vault's configuration as code: every secret a pod's Vault
 * Agent renders is allowed by that pod's role, every Certificate the charts request is signable
 * by the PKI role, and every namespace whose pods mount `vault-ca` gets it from the bootstrap.
 */
import { renderEnvironment, spec } from '../charts/helpers';
import { durationSeconds } from '../../lib/spec';
import { generatedKeys, KUBERNETES_AUTH_PATH, RDS_CA, renderBootstrapParameters, renderKubernetesRoles, vaultClients, VAULT_CA_SECRET } from '../../lib/vault/config-as-code';
import { staticRoles } from '../../lib/vault/database';
import { pkiPath, renderPkiRole } from '../../lib/vault/pki';

const objects = Object.values(renderEnvironment('production')).flat();
const clients = new Map(vaultClients(spec).map((c) => [c.name, c]));
const kubernetesRoles = renderKubernetesRoles(spec);
const pkiRole = renderPkiRole(spec)[`${pkiPath(spec).mount}/roles/${pkiPath(spec).role}`]!;
const vaultCaNamespaces = renderBootstrapParameters(spec).vaultCa.namespaces;

const workloads = objects.filter((o) => o.kind === 'Deployment' && o.spec.template.metadata?.annotations?.['vault.hashicorp.com/agent-inject'] === 'true');

/** `720h0m0s` / `720h` (cert-manager durations) in seconds. */
function goSeconds(value: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (!match || value === '') throw new Error(`not a Go duration: ${value}`);
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

describe('charts <-> Vault configuration', () => {
  it('finds the Vault-injected workloads: every service and both PgBouncer pools', () => {
    expect(workloads.map((d) => d.metadata.name).sort()).toEqual([...spec.services.map((s) => s.name), 'pgbouncer', 'pgbouncer-reader'].sort());
  });

  it.each(workloads.map((d) => [d.metadata.name, d]))('%s: the role exists, binds this pod, and allows every secret it renders', (_name, deployment: any) => {
    const annotations: Record<string, string> = deployment.spec.template.metadata.annotations;
    const roleName = annotations['vault.hashicorp.com/role']!;
    const role = kubernetesRoles[`auth/kubernetes/role/${roleName}`];
    expect(role).toBeDefined();
    expect(role!.bound_service_account_names).toEqual([deployment.spec.template.spec.serviceAccountName]);
    expect(role!.bound_service_account_namespaces).toEqual([deployment.metadata.namespace]);
    const projected = deployment.spec.template.spec.volumes.flatMap((v: any) => v.projected?.sources ?? []);
    expect(projected.map((s: any) => s.serviceAccountToken?.audience)).toContain(role!.audience);

    const allowed = clients.get(roleName)!.rules.filter((r) => r.capabilities.includes('read')).map((r) => r.path);
    // What the agent reads: every `secret "<path>"` of the templates (one file may read several,
    // as PgBouncer's auth_file does), and each agent-inject-secret path.
    const templates = Object.entries(annotations).filter(([k]) => k.startsWith('vault.hashicorp.com/agent-inject-template-')).map(([, t]) => t);
    const injected = Object.entries(annotations).filter(([k]) => k.startsWith('vault.hashicorp.com/agent-inject-secret-')).map(([, path]) => path);
    expect(templates.length).toBe(injected.length);
    const rendered = [...new Set([...injected, ...templates.flatMap((t) => [...t.matchAll(/\bsecret "([^"]+)"/g)].map((m) => m[1]!))])];
    expect(rendered.length).toBeGreaterThan(0);
    expect(allowed).toEqual(expect.arrayContaining(rendered));
    // And nothing the pod never reads: a policy wider than the pod's use is a finding.
    expect([...rendered].sort()).toEqual([...allowed].sort());

    expect(annotations['vault.hashicorp.com/tls-secret']).toBe(VAULT_CA_SECRET.name);
    expect(vaultCaNamespaces).toContain(deployment.metadata.namespace);
  });

  it("renders into PgBouncer's auth_file exactly the static credentials of the services with a database", () => {
    for (const pool of ['pgbouncer', 'pgbouncer-reader']) {
      const annotations = workloads.find((d) => d.metadata.name === pool)!.spec.template.metadata.annotations;
      const template: string = annotations['vault.hashicorp.com/agent-inject-template-userlist.txt'];
      const read = [...template.matchAll(/\bsecret "([^"]+)"/g)].map((m) => m[1]);
      expect(read).toEqual(staticRoles(spec).map((r) => `database/static-creds/${r.name}`));
      expect(read).toEqual(spec.services.filter((s) => s.secrets.includes('database')).map((s) => `database/static-creds/${s.name}`));
    }
  });

  it('renders the fields bootstrap writes: the key-encryption key and the RDS CA bundle', () => {
    const templates = workloads.flatMap((d) => Object.entries<string>(d.spec.template.metadata.annotations))
      .filter(([k]) => k.startsWith('vault.hashicorp.com/agent-inject-template-')).map(([, t]) => t);
    expect(generatedKeys(spec).length).toBeGreaterThan(0);
    for (const key of generatedKeys(spec)) {
      expect(templates).toContain(`{{- with secret "kv/data/${key.path}" -}}{{ .Data.data.${key.field} }}{{- end -}}`);
    }
    expect(templates.some((t) => t.includes(`secret "kv/data/${RDS_CA.path}"`) && t.includes(`.Data.data.${RDS_CA.field}`))).toBe(true);
  });

  it('renders the operator secrets bootstrap checks (the Stripe key) where their services read them, and nowhere else', () => {
    const operator = renderBootstrapParameters(spec).operatorSecrets;
    expect(operator.length).toBeGreaterThan(0);
    for (const secret of operator) {
      const readers = workloads.filter((d) => Object.values<string>(d.spec.template.metadata.annotations).includes(`kv/data/${secret.path}`));
      expect(readers.map((d) => d.metadata.name)).toEqual([secret.path.split('/')[1]]);
      const annotations = readers[0].spec.template.metadata.annotations;
      const file = Object.keys(annotations).find((k) => annotations[k] === `kv/data/${secret.path}`)!.replace('vault.hashicorp.com/agent-inject-secret-', '');
      expect(annotations[`vault.hashicorp.com/agent-inject-template-${file}`]).toBe(`{{- with secret "kv/data/${secret.path}" -}}{{ .Data.data.${secret.field} }}{{- end -}}`);
      const env = readers[0].spec.template.spec.containers[0].env.find((e: any) => e.name === 'STRIPE_SECRET_KEY_FILE');
      expect(env.value).toBe(`/vault/secrets/${file}`);
    }
  });

  it("signs every workload Certificate: names, usages and lifetime within the PKI role", () => {
    const certificates = objects.filter((o) => o.kind === 'Certificate' && !o.spec.isCA);
    expect(certificates.length).toBe(spec.services.length + 1);
    const allowedDomains = pkiRole.allowed_domains as string[];
    const requested = new Set<string>();
    for (const cert of certificates) {
      for (const name of [cert.spec.commonName, ...cert.spec.dnsNames]) {
        expect({ certificate: cert.metadata.name, name, allowed: allowedDomains.includes(name) }).toEqual({ certificate: cert.metadata.name, name, allowed: true });
        requested.add(name);
      }
      expect(cert.spec.ipAddresses ?? []).toEqual([]);
      expect(goSeconds(cert.spec.duration)).toBeLessThanOrEqual(pkiRole.max_ttl as number);
      expect(cert.spec.privateKey).toMatchObject({ algorithm: 'ECDSA', size: pkiRole.key_bits });
      if (cert.spec.usages.includes('client auth')) expect(pkiRole.client_flag).toBe(true);
      if (cert.spec.usages.includes('server auth')) expect(pkiRole.server_flag).toBe(true);
    }
    // Exactly: the role allows no name the charts do not request.
    expect([...requested].sort()).toEqual([...allowedDomains].sort());
    expect(pkiRole.max_ttl).toBe(durationSeconds(spec.workloads.certificates.duration));
  });

  it("points cert-manager's Vault issuer at the sign path, role and CA Secret bootstrap creates", () => {
    const issuer = objects.find((o) => o.kind === 'ClusterIssuer' && o.spec.vault);
    expect(issuer.spec.vault.path).toBe(pkiPath(spec).signPath);
    expect(issuer.spec.vault.caBundleSecretRef).toEqual({ name: VAULT_CA_SECRET.name, key: VAULT_CA_SECRET.key });
    const auth = issuer.spec.vault.auth.kubernetes;
    const role = kubernetesRoles[`auth/kubernetes/role/${auth.role}`]!;
    expect(role.bound_service_account_names).toEqual([auth.serviceAccountRef.name]);
    expect(auth.serviceAccountRef.audiences).toEqual([role.audience]);
    expect(auth.mountPath).toBe(`/v1/${KUBERNETES_AUTH_PATH}`);
    expect(vaultCaNamespaces).toContain(role.bound_service_account_namespaces[0]);
  });
});
