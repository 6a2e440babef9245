import * as fs from 'node:fs';
import * as path from 'node:path';
import { durationSeconds, loadPlatformSpec } from '../../lib/spec';
import { vaultNames } from '../../lib/spec/vault-names';
import type { PlatformSpec } from '../../lib/spec';
import {
  operatorSecrets, platformCredentials, renderKubernetesRoles, servicePolicyPaths, STRIPE_SECRET_KEY_PATTERN, vaultClients, vaultConfigFiles,
  renderBootstrapParameters,
} from '../../lib/vault/config-as-code';
import { renderDatabaseConnection, renderStaticRoles } from '../../lib/vault/database';
import { renderPkiRole, vaultServerCertificateNames } from '../../lib/vault/pki';
import { problemsAfter, serviceEntry } from '../helpers/spec';
import type { Mutable } from '../helpers/spec';

const spec = loadPlatformSpec();

describe('the Vault spec (DESIGN.md §7)', () => {
  it('runs 3 nodes on Vault ports 8200/8201, open source, with the secrets RPO/RTO of the spec', () => {
    expect(spec.vault).toMatchObject({ nodes: 3, apiPort: 8200, clusterPort: 8201, enterpriseReplication: false });
    expect(spec.vault.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(spec.disasterRecovery.secrets).toEqual({ rpo: 'PT0S', rto: 'PT1H', strategy: 'Multi-region Vault' });
    expect(spec.drRegion.name).toBe('us-west-2');
  });

  it('names Vault inside each environment\'s VPC by a private DNS name the failover moves', () => {
    expect(vaultNames(spec, 'production')).toMatchObject({ privateZone: 'production.platform.internal', dnsName: 'vault.production.platform.internal' });
    expect(vaultNames(spec, 'staging').dnsName).toBe('vault.staging.platform.internal');
  });

  it('derives resource names that fit AWS limits and differ per environment', () => {
    const prod = vaultNames(spec, 'production');
    const staging = vaultNames(spec, 'staging');
    expect(prod).toMatchObject({
      primaryRegion: 'us-east-1', standbyRegion: 'us-west-2', table: 'platform-production-vault',
      primaryAutoScalingGroup: 'platform-production-vault', standbyAutoScalingGroup: 'platform-production-vault-standby',
      addressParameter: '/platform/production/vault/address', tlsSecret: 'platform/production/vault/tls',
    });
    for (const names of [prod, staging]) {
      expect(names.primaryLoadBalancer.length).toBeLessThanOrEqual(32);
      expect(names.standbyLoadBalancer.length).toBeLessThanOrEqual(32);
    }
    expect(new Set([prod.table, staging.table]).size).toBe(2);
    expect(() => vaultNames(spec, 'qa')).toThrow('unknown environment "qa"');
  });
});

describe('Vault spec validation names the field and the value', () => {
  it.each<[string, (d: Mutable<PlatformSpec>) => void, string]>([
    ['a version range', (d) => { d.vault.version = '1.20'; }, 'vault.version = "1.20": must be an exact Vault version'],
    ['node count not spread over the AZs', (d) => { d.vault.nodes = 4; }, 'vault.nodes = 4: must be a multiple of the 3 availability zones'],
    ['zero nodes', (d) => { d.vault.nodes = 0; }, 'vault.nodes = 0: must be >= 1'],
    ['cluster port equal to the API port', (d) => { d.vault.clusterPort = 8200; }, 'vault.clusterPort = 8200: must differ from vault.apiPort'],
    ['privileged API port', (d) => { d.vault.apiPort = 443; }, 'vault.apiPort = 443: must be >= 1024'],
    ['unknown instance type', (d) => { d.vault.instanceType = 'm6i.huge'; }, 'vault.instanceType = "m6i.huge": unknown EC2 instance type'],
    ['audit retention CloudWatch does not offer', (d) => { d.vault.auditLogRetentionDays = 100; }, 'vault.auditLogRetentionDays = 100: must be a CloudWatch Logs retention period'],
    ['non-boolean Enterprise switch', (d) => { (d.vault as any).enterpriseReplication = 'yes'; }, 'vault.enterpriseReplication'],
    ['standby VPC overlapping the environment', (d) => { d.vault.standbyVpc.cidrs.staging = '10.20.16.0/20'; },
      'vault.standbyVpc.cidrs.staging = "10.20.16.0/20": overlaps 10.20.0.0/16 of environment staging'],
    ['standby VPC too small for its subnets', (d) => { d.vault.standbyVpc.cidrs.production = '10.110.0.0/23'; },
      'vault.standbyVpc.cidrs.production = "10.110.0.0/23": is too small for 6 subnets of /24'],
    ['more standby NATs than AZs', (d) => { d.vault.standbyVpc.natGateways = 4; }, 'vault.standbyVpc.natGateways = 4: must be <= the number of availability zones (3)'],
    ['a service without secrets', (d) => { delete (serviceEntry(d, 'order-service') as { secrets?: unknown }).secrets; }, 'services.4.secrets'],
    ['a secret kind twice', (d) => { serviceEntry(d, 'order-service').secrets.push('broker'); },
      'services.4.secrets.2 = "broker": duplicate secret kind of order-service'],
    ['an unknown secret kind', (d) => { (serviceEntry(d, 'user-service').secrets as string[]).push('s3'); }, 'services.2.secrets.2'],
    ['a token TTL that is not a duration', (d) => { d.vault.kubernetesTokenTtl = '1h'; }, 'vault.kubernetesTokenTtl = "1h": must be an ISO-8601 duration'],
    ['a static credential rotation under an hour', (d) => { d.vault.staticCredentialRotation.services = 'PT10M'; },
      'vault.staticCredentialRotation.services = "PT10M": must be at least PT1H'],
    ['a rotation that is not a duration', (d) => { d.vault.staticCredentialRotation.services = '30d'; },
      'vault.staticCredentialRotation.services = "30d": must be an ISO-8601 duration'],
    ['a services CA that expires before its certificates', (d) => { d.vault.pkiCaTtl = 'PT24H'; },
      'vault.pkiCaTtl = "PT24H": must be longer than workloads.certificates.duration (PT720H)'],
    ['a DNS TTL a failover would wait on too long', (d) => { d.vault.dnsTtlSeconds = 3600; }, 'vault.dnsTtlSeconds = 3600: must be <= 300'],
    ['a package repository over plain HTTP', (d) => { d.vault.packageRepository = 'http://rpm.releases.hashicorp.com'; }, 'vault.packageRepository = "http://rpm.releases.hashicorp.com": must be an https URL'],
    ['an AWS API the nodes cannot be granted', (d) => { (d.vault.awsApis as string[]).push('ec2'); }, 'vault.awsApis.4'],
  ])('rejects %s', (_label, edit, expected) => {
    expect(problemsAfter(edit)).toContain(expected);
  });
});

describe('Vault configuration as code', () => {
  const root = path.join(__dirname, '..', '..');
  const ttl = durationSeconds(spec.vault.kubernetesTokenTtl);

  it('checks in exactly the files the spec renders (regenerate: npm run vault:config)', () => {
    const files = vaultConfigFiles(spec);
    for (const [file, content] of Object.entries(files)) {
      expect({ file, content: fs.readFileSync(path.join(root, file), 'utf8') }).toEqual({ file, content });
    }
    const policies = fs.readdirSync(path.join(root, 'vault', 'policies')).sort();
    expect(policies).toEqual([...spec.services.map((s) => s.name), 'pgbouncer', 'cert-manager'].map((n) => `${n}.hcl`).sort());
  });

  it('lets each service read only its own credentials: static database creds and the kinds the spec gives it', () => {
    const service = (name: string) => spec.services.find((s) => s.name === name)!;
    expect(servicePolicyPaths(service('order-service'))).toEqual(['database/static-creds/order-service', 'kv/data/services/order-service/kafka']);
    expect(servicePolicyPaths(service('api-gateway'))).toEqual(['kv/data/services/api-gateway/redis']);
    // Its key-encryption key (AUTH_KEY_ENCRYPTION_KEY_FILE), besides its stores.
    expect(servicePolicyPaths(service('auth-service'))).toEqual([
      'database/static-creds/auth-service', 'kv/data/services/auth-service/redis', 'kv/data/services/auth-service/signing',
    ]);
    // Its Stripe secret key (STRIPE_SECRET_KEY_FILE), by the 'payment-provider' kind.
    expect(servicePolicyPaths(service('payment-service'))).toEqual([
      'database/static-creds/payment-service', 'kv/data/services/payment-service/kafka', 'kv/data/services/payment-service/stripe',
    ]);
    for (const svc of spec.services) {
      for (const p of servicePolicyPaths(svc)) expect(p).toContain(svc.name);
      expect(servicePolicyPaths(svc).some((p) => p.startsWith('database/creds/'))).toBe(false);
    }
  });

  it('binds one Kubernetes role per service to its own service account and namespace', () => {
    const roles = renderKubernetesRoles(spec);
    expect(Object.keys(roles)).toEqual([...spec.services.map((s) => s.name), 'pgbouncer', 'cert-manager'].map((n) => `auth/kubernetes/role/${n}`));
    expect(roles['auth/kubernetes/role/payment-service']).toEqual({
      bound_service_account_names: ['payment-service'], bound_service_account_namespaces: ['payment-service'],
      audience: 'vault', token_policies: ['payment-service'], token_ttl: ttl, token_max_ttl: ttl,
    });
  });

  it("gives PgBouncer every service's static database credentials (its auth_file) and the RDS CA, nothing else", () => {
    expect(renderKubernetesRoles(spec)['auth/kubernetes/role/pgbouncer']).toEqual({
      bound_service_account_names: ['pgbouncer'], bound_service_account_namespaces: ['pgbouncer'],
      audience: 'vault', token_policies: ['pgbouncer'], token_ttl: ttl, token_max_ttl: ttl,
    });
    const withDatabase = spec.services.filter((s) => s.secrets.includes('database')).map((s) => s.name);
    expect([...withDatabase].sort()).toEqual(['auth-service', 'order-service', 'payment-service', 'user-service']);
    expect(vaultClients(spec).find((c) => c.name === 'pgbouncer')!.rules).toEqual([
      ...withDatabase.map((name) => ({ path: `database/static-creds/${name}`, capabilities: ['read'] })),
      { path: 'kv/data/platform/rds-ca', capabilities: ['read'] },
    ]);
  });

  it("follows the spec: a service without a database drops out of PgBouncer's policy", () => {
    const spec2 = structuredClone(spec) as Mutable<PlatformSpec>;
    serviceEntry(spec2, 'order-service').secrets = ['broker'];
    const paths = vaultClients(spec2 as PlatformSpec).find((c) => c.name === 'pgbouncer')!.rules.map((r) => r.path);
    expect(paths).not.toContain('database/static-creds/order-service');
    expect(paths).toContain('database/static-creds/payment-service');
  });

  it("derives the payment provider key's policy and bootstrap entry from the 'payment-provider' kind", () => {
    expect(operatorSecrets(spec)).toEqual([{
      service: 'payment-service', path: 'services/payment-service/stripe', field: 'secret_key',
      description: expect.stringContaining('Stripe secret key'), pattern: STRIPE_SECRET_KEY_PATTERN,
      fileVariable: 'PAYMENT_SERVICE_STRIPE_SECRET_KEY_FILE',
    }]);
    const spec2 = structuredClone(spec) as Mutable<PlatformSpec>;
    serviceEntry(spec2, 'payment-service').secrets = ['database', 'broker'];
    serviceEntry(spec2, 'order-service').secrets = ['database', 'broker', 'payment-provider'];
    const paths = (name: string) => vaultClients(spec2 as PlatformSpec).find((c) => c.name === name)!.rules.map((r) => r.path);
    expect(paths('payment-service')).not.toContain('kv/data/services/payment-service/stripe');
    expect(paths('order-service')).toContain('kv/data/services/order-service/stripe');
    expect(operatorSecrets(spec2 as PlatformSpec).map((o) => o.path)).toEqual(['services/order-service/stripe']);
  });

  it('copies the Redis and Kafka credentials AWS issues into the entry of every service that reads them, and only those', () => {
    const credentials = platformCredentials(spec);
    expect(credentials.map((c) => [c.name, c.fileVariable, c.stack, c.output])).toEqual([
      ['redis', 'REDIS_AUTH_TOKEN_FILE', 'platform-<env>-cache', 'AuthSecretArn'],
      ['kafka', 'KAFKA_SCRAM_SECRET_FILE', 'platform-<env>-messaging', 'ScramSecretArn'],
    ]);
    expect(credentials[1]!.username).toBe(spec.dataTier.kafka.scramUsername);
    // Every policy path of kind cache/broker has its writer, and no writer targets a path no policy reads.
    const read = vaultClients(spec).flatMap((c) => c.rules.map((r) => r.path)).filter((p) => /\/(redis|kafka)$/.test(p)).sort();
    expect(credentials.flatMap((c) => c.paths.map((p) => `kv/data/${p}`)).sort()).toEqual(read);
    expect(read.length).toBeGreaterThan(0);
    const spec2 = structuredClone(spec) as Mutable<PlatformSpec>;
    serviceEntry(spec2, 'api-gateway').secrets = [];
    expect(platformCredentials(spec2 as PlatformSpec)[0]!.paths).not.toContain('services/api-gateway/redis');
    expect(renderBootstrapParameters(spec).platformCredentials).toEqual(credentials);
  });

  it("lets cert-manager's Vault issuer sign with the services role only", () => {
    expect(renderKubernetesRoles(spec)['auth/kubernetes/role/cert-manager']).toEqual({
      bound_service_account_names: ['cert-manager-vault-issuer'], bound_service_account_namespaces: [spec.clusterAddons.certManager.namespace],
      audience: 'vault', token_policies: ['cert-manager'], token_ttl: ttl, token_max_ttl: ttl,
    });
    expect(vaultClients(spec).find((c) => c.name === 'cert-manager')!.rules).toEqual([
      { path: spec.workloads.certificates.vaultPkiPath, capabilities: ['create', 'update'] },
    ]);
  });

  it('defines one static role per service database (user with _ for -), none for PgBouncer, rotated as the spec says', () => {
    const roles = renderStaticRoles(spec);
    const services = spec.services.filter((s) => s.database).map((s) => s.name);
    expect(Object.keys(roles).sort()).toEqual(services.map((n) => `database/static-roles/${n}`).sort());
    expect(roles['database/static-roles/payment-service']).toEqual({
      db_name: 'postgres', username: 'payment_service', rotation_period: durationSeconds(spec.vault.staticCredentialRotation.services),
    });
    const connection = renderDatabaseConnection(spec)['database/config/postgres']!;
    expect(connection.allowed_roles).toEqual(Object.keys(roles).map((k) => k.split('/').pop()));
    expect(connection.connection_url).toBe('postgresql://{{username}}:{{password}}@${DATABASE_HOST}:${DATABASE_PORT}/postgres?sslmode=require');
    // bootstrap.sh puts the spec's port there unless DATABASE_PORT says otherwise (the tests).
    expect(renderBootstrapParameters(spec).database).toMatchObject({ port: spec.dataTier.postgres.port, portPlaceholder: '${DATABASE_PORT}', hostPlaceholder: '${DATABASE_HOST}' });
  });

  it('issues short-lived EC certificates for exactly the workload names, for server and client use', () => {
    const role = renderPkiRole(spec)['pki/roles/services']!;
    const seconds = durationSeconds(spec.workloads.certificates.duration);
    expect(role).toMatchObject({
      allow_bare_domains: true, allow_subdomains: false, allow_glob_domains: false, allow_wildcard_certificates: false,
      allow_localhost: false, allow_ip_sans: false, allow_any_name: false, server_flag: true, client_flag: true,
      key_type: 'ec', key_bits: 256, ttl: seconds, max_ttl: seconds,
    });
    expect(role.allowed_domains).toEqual(expect.arrayContaining([
      'payment-service', 'payment-service.payment-service.svc', 'payment-service.payment-service.svc.cluster.local',
      'pgbouncer-reader.pgbouncer.svc.cluster.local',
    ]));
    expect((role.allowed_domains as string[]).some((d) => d.includes('*'))).toBe(false);
  });

  it("puts Vault's in-cluster name and both regions' load balancers on its server certificate", () => {
    expect(vaultServerCertificateNames(spec)).toEqual({
      dns: ['*.elb.us-east-1.amazonaws.com', '*.elb.us-west-2.amazonaws.com', 'vault.vault.svc.cluster.local'],
      ip: ['127.0.0.1'],
    });
  });
});
