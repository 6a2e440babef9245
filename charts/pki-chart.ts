import { PlatformChart } from './lib/platform-chart';
import type { PlatformChartProps } from './lib/platform-chart';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { Construct } from 'constructs';
import { Certificate, CertificateSpecPrivateKeyAlgorithm, ClusterIssuer } from './imports/cert-manager.io';
import { SERVICES_ISSUER, VAULT_ISSUER_SERVICE_ACCOUNT, vaultAddress } from '../lib/spec/topology';


/** Secret (in cert-manager's namespace) with the self-signed CA of environments that use one. */
export const SELF_SIGNED_CA_SECRET = 'platform-services-ca';

/**
 * The issuer of every workload certificate (mTLS between the services, PgBouncer's server
 * certificate): Vault's PKI engine where `workloads.certificates.issuer` says `vault-pki`, or a
 * cluster-local self-signed CA. Either way the ClusterIssuer is `platform-services`, so the
 * Certificates are the same in every environment.
 */
export class PkiChart extends PlatformChart {
  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, props);
    const { spec, environment } = props;
    const namespace = spec.clusterAddons.certManager.namespace;
    const kind = spec.workloads.certificates.issuer[environment.name];
    if (!kind) throw new Error(`workloads.certificates.issuer: no entry for environment ${environment.name}`);

    if (kind === 'vault-pki') {
      new k8s.KubeServiceAccount(this, 'vault-issuer-sa', {
        metadata: { name: VAULT_ISSUER_SERVICE_ACCOUNT, namespace },
        automountServiceAccountToken: false,
      });
      // cert-manager requests short-lived `vault`-audience tokens for that account, nothing more.
      new k8s.KubeRole(this, 'vault-issuer-token-role', {
        metadata: { name: VAULT_ISSUER_SERVICE_ACCOUNT, namespace },
        rules: [{ apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: [VAULT_ISSUER_SERVICE_ACCOUNT], verbs: ['create'] }],
      });
      new k8s.KubeRoleBinding(this, 'vault-issuer-token-binding', {
        metadata: { name: VAULT_ISSUER_SERVICE_ACCOUNT, namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: VAULT_ISSUER_SERVICE_ACCOUNT },
        subjects: [{ kind: 'ServiceAccount', name: spec.clusterAddons.certManager.chart, namespace }],
      });
      new ClusterIssuer(this, 'services-issuer', {
        metadata: { name: SERVICES_ISSUER },
        spec: {
          vault: {
            server: vaultAddress(spec),
            path: spec.workloads.certificates.vaultPkiPath,
            // The Vault CA (public material, docs/workloads.md bootstrap).
            caBundleSecretRef: { name: 'vault-ca', key: 'ca.crt' },
            auth: {
              kubernetes: {
                role: 'cert-manager',
                mountPath: '/v1/auth/kubernetes',
                serviceAccountRef: { name: VAULT_ISSUER_SERVICE_ACCOUNT, audiences: ['vault'] },
              },
            },
          },
        },
      });
      return;
    }

    // Self-signed: a root made once by cert-manager, kept in its namespace, signing everything.
    new ClusterIssuer(this, 'root-issuer', { metadata: { name: `${SERVICES_ISSUER}-root` }, spec: { selfSigned: {} } });
    new Certificate(this, 'root-ca', {
      metadata: { name: SERVICES_ISSUER, namespace },
      spec: {
        isCa: true,
        commonName: `${spec.project} ${environment.name} services CA`,
        secretName: SELF_SIGNED_CA_SECRET,
        duration: '87600h', // ten years: the root is replaced by re-issuing, not by expiry
        privateKey: { algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA, size: 256 },
        issuerRef: { name: `${SERVICES_ISSUER}-root`, kind: 'ClusterIssuer', group: 'cert-manager.io' },
      },
    });
    new ClusterIssuer(this, 'services-issuer', {
      metadata: { name: SERVICES_ISSUER },
      spec: { ca: { secretName: SELF_SIGNED_CA_SECRET } },
    });
  }
}
