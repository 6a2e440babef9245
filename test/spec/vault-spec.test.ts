import * as fs from 'node:fs';
import * as path from 'node:path';
import { durationSeconds, loadPlatformSpec } from '../../lib/spec';
import { vaultNames } from '../../lib/spec/vault-names';
import type { PlatformSpec } from '../../lib/spec';
import { renderKubernetesRoles, servicePolicyPaths, vaultConfigFiles } from '../../lib/vault/config-as-code';
import { problemsAfter } from '../helpers/spec';
import type { Mutable } from '../helpers/spec';

const spec = loadPlatformSpec();

describe('the Vault spec (DESIGN.md §7)', () => {
  it('runs 3 nodes on Vault ports 8200/8201, open source, with the secrets RPO/RTO of the spec', () => {
    expect(spec.vault).toMatchObject({ nodes: 3, apiPort: 8200, clusterPort: 8201, enterpriseReplication: false });
    expect(spec.vault.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(spec.disasterRecovery.secrets).toEqual({ rpo: 'PT0S', rto: 'PT1H', strategy: 'Multi-region Vault' });
    expect(spec.drRegion.name).toBe('us-west-2');
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
    ['secrets for an unknown service', (d) => { d.vault.serviceSecrets['billing-service'] = ['database']; },
      'vault.serviceSecrets.billing-service = "billing-service": is not a service of the spec'],
    ['a service without secrets entry', (d) => { delete d.vault.serviceSecrets['order-service']; },
      'vault.serviceSecrets = "order-service": has no entry for service order-service'],
    ['an unknown secret kind', (d) => { (d.vault.serviceSecrets['user-service'] as string[]).push('s3'); }, 'vault.serviceSecrets.user-service.2'],
    ['a token TTL that is not a duration', (d) => { d.vault.kubernetesTokenTtl = '1h'; }, 'vault.kubernetesTokenTtl = "1h": must be an ISO-8601 duration'],
  ])('rejects %s', (_label, edit, expected) => {
    expect(problemsAfter(edit)).toContain(expected);
  });
});

describe('Vault configuration as code', () => {
  const root = path.join(__dirname, '..', '..');

  it('checks in exactly the files the spec renders (regenerate: npx tsx scripts/vault/generate-config.ts)', () => {
    const files = vaultConfigFiles(spec);
    for (const [file, content] of Object.entries(files)) {
      expect(fs.readFileSync(path.join(root, file), 'utf8')).toBe(content);
    }
    const policies = fs.readdirSync(path.join(root, 'vault', 'policies')).sort();
    expect(policies).toEqual(spec.services.map((s) => `${s.name}.hcl`).sort());
  });

  it('lets each service read only its own credentials of the kinds the spec gives it', () => {
    const service = (name: string) => spec.services.find((s) => s.name === name)!;
    expect(servicePolicyPaths(spec, service('order-service'))).toEqual(['database/creds/order-service', 'kv/data/services/order-service/kafka']);
    expect(servicePolicyPaths(spec, service('api-gateway'))).toEqual(['kv/data/services/api-gateway/redis']);
    for (const svc of spec.services) {
      for (const p of servicePolicyPaths(spec, svc)) expect(p).toContain(svc.name);
    }
  });

  it('binds one Kubernetes role per service to its own service account and namespace', () => {
    const roles = renderKubernetesRoles(spec);
    expect(Object.keys(roles)).toEqual(spec.services.map((s) => `auth/kubernetes/role/${s.name}`));
    expect(roles['auth/kubernetes/role/payment-service']).toEqual({
      bound_service_account_names: ['payment-service'], bound_service_account_namespaces: ['payment-service'],
      audience: 'vault', token_policies: ['payment-service'],
      token_ttl: durationSeconds(spec.vault.kubernetesTokenTtl), token_max_ttl: durationSeconds(spec.vault.kubernetesTokenTtl),
    });
  });
});
