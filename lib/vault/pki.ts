/**
 * Certificates, rendered from the spec: Vault's PKI mount and the `services` role cert-manager
 * signs the workloads' mTLS certificates with, and the names Vault's own server certificate
 * must carry (vault/tls/vault-server.ext, used by the out-of-band issuing in docs/vault.md).
 */
import { PGBOUNCER_NAMESPACE, PGBOUNCER_READER, PGBOUNCER_WRITER, serviceDnsSans, vaultAddress } from '../spec/topology';
import { durationSeconds } from '../spec';
import type { PlatformSpec } from '../spec';

/** `pki/sign/services` -> mount `pki`, role `services` (workloads.certificates.vaultPkiPath). */
export function pkiPath(spec: PlatformSpec): { mount: string; role: string; signPath: string } {
  const signPath = spec.workloads.certificates.vaultPkiPath;
  const match = /^([a-z0-9_-]+)\/sign\/([a-z0-9_-]+)$/.exec(signPath);
  if (!match) throw new Error(`workloads.certificates.vaultPkiPath = ${JSON.stringify(signPath)}: must be <pki mount>/sign/<role>`);
  return { mount: match[1]!, role: match[2]!, signPath };
}

/**
 * Every DNS name a workload Certificate of the charts requests: per service `<svc>`,
 * `<svc>.<svc>.svc`, `<svc>.<svc>.svc.cluster.local`; per PgBouncer pool the same in its namespace.
 */
export function workloadCertificateNames(spec: PlatformSpec): string[] {
  const pools = [PGBOUNCER_WRITER, PGBOUNCER_READER]
    .flatMap((pool) => [pool, `${pool}.${PGBOUNCER_NAMESPACE}.svc`, `${pool}.${PGBOUNCER_NAMESPACE}.svc.cluster.local`]);
  return [...new Set([...spec.services.flatMap((s) => serviceDnsSans(s.name)), ...pools])].sort();
}

/**
 * pki/roles/<role>: exactly the charts' names (bare, no subdomains, globs, wildcards, IPs or
 * localhost), ECDSA P-256 like the Certificates, server and client use, and a lifetime of at most
 * `workloads.certificates.duration`: a stolen key is worth one certificate lifetime at most.
 */
export function renderPkiRole(spec: PlatformSpec): Record<string, Record<string, unknown>> {
  const { mount, role } = pkiPath(spec);
  const ttl = durationSeconds(spec.workloads.certificates.duration);
  return {
    [`${mount}/roles/${role}`]: {
      allowed_domains: workloadCertificateNames(spec),
      allow_bare_domains: true,
      allow_subdomains: false,
      allow_glob_domains: false,
      allow_wildcard_certificates: false,
      allow_localhost: false,
      allow_ip_sans: false,
      allowed_uri_sans: [],
      allowed_other_sans: [],
      allow_any_name: false,
      enforce_hostnames: true,
      server_flag: true,
      client_flag: true,
      code_signing_flag: false,
      email_protection_flag: false,
      key_type: 'ec',
      key_bits: 256,
      // ECDSA keys sign; key encipherment (RSA key transport) does not apply.
      key_usage: ['DigitalSignature'],
      ttl,
      max_ttl: ttl,
      require_cn: true,
      // Kept in storage so a certificate can be revoked by serial (PCI DSS incident response).
      no_store: false,
    },
  };
}

/**
 * The PKI mount bootstrap creates: a root CA generated inside Vault (its key never leaves it),
 * ECDSA P-256, living `vault.pkiCaTtl`, which is also the mount's max lease TTL.
 */
export function pkiMountConfig(spec: PlatformSpec) {
  const { mount } = pkiPath(spec);
  const address = vaultAddress(spec);
  return {
    mount,
    maxLeaseTtlSeconds: durationSeconds(spec.vault.pkiCaTtl),
    commonName: `${spec.project} services CA`,
    issuingCertificates: `${address}/v1/${mount}/ca`,
    crlDistributionPoints: `${address}/v1/${mount}/crl`,
  };
}

/**
 * Names on Vault's server certificate: each cluster's internal NLB (`internal-<name>-<id>.elb.<region>.amazonaws.com`,
 * in every environment region and the DR region), the in-cluster address the injector and
 * cert-manager use (the `vault` ExternalName Service), and loopback for the CLI on a node.
 */
export function vaultServerCertificateNames(spec: PlatformSpec): { dns: string[]; ip: string[] } {
  const regions = [...new Set([...Object.values(spec.environments).map((e) => e.region), spec.drRegion.name])].sort();
  return {
    dns: [...regions.map((r) => `*.elb.${r}.amazonaws.com`), new URL(vaultAddress(spec)).hostname],
    ip: ['127.0.0.1'],
  };
}

/** openssl x509 -extfile for Vault's server certificate (docs/vault.md "TLS secret setup"). */
export function renderVaultServerExtensions(spec: PlatformSpec): string {
  const { dns, ip } = vaultServerCertificateNames(spec);
  return [
    "# Extensions of Vault's server certificate: openssl x509 -req ... -extfile vault/tls/vault-server.ext",
    '# Generated from lib/spec by scripts/vault/generate-config.ts: edit the spec, not this file.',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth',
    `subjectAltName = ${[...dns.map((d) => `DNS:${d}`), ...ip.map((i) => `IP:${i}`)].join(', ')}`,
    '',
  ].join('\n');
}
