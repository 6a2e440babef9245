import { ENVIRONMENT_NAMES } from '../../lib/spec';
import { parseCidr } from '../../lib/spec';
import { paymentProviderPort, serviceByName, zoneSubnetCidrs } from '../../lib/spec/topology';
import { addOnNamespaces } from '../../charts/namespaces-chart';
import { findObject, renderEnvironment, spec } from './helpers';

const ports = (rule: any) => rule.ports.map((p: any) => p.port);
/** Whether CIDR (or address) `inner` lies inside CIDR `outer`. */
function within(inner: string, outer: string): boolean {
  const a = parseCidr(inner.includes('/') ? inner : `${inner}/32`)!;
  const b = parseCidr(outer)!;
  return a.prefix >= b.prefix && Math.floor(a.base / 2 ** (32 - b.prefix)) === b.base / 2 ** (32 - b.prefix);
}
const namespacesOf = (rule: any) => (rule.to ?? rule.from).filter((p: any) => p.namespaceSelector)
  .map((p: any) => p.namespaceSelector.matchLabels['kubernetes.io/metadata.name']);

describe.each(ENVIRONMENT_NAMES)('%s network zones', (envName) => {
  const charts = renderEnvironment(envName);
  const zones = zoneSubnetCidrs(spec, spec.environments[envName]);
  const egressOf = (name: string) => findObject(charts[name]!, 'NetworkPolicy', `${name}-egress`).spec.egress as any[];

  it('denies everything by default in every namespace and allows DNS', () => {
    const namespaces = charts.namespaces!.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    expect(namespaces).toEqual([...spec.services.map((s) => s.name), 'pgbouncer']);
    for (const ns of namespaces) {
      expect(findObject(charts.namespaces!, 'NetworkPolicy', 'default-deny', ns).spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      const dns = findObject(charts.namespaces!, 'NetworkPolicy', 'allow-dns', ns).spec.egress[0];
      expect(dns.ports).toEqual([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
    }
  });

  it('lets the gateway call only the services (and its cache, and Vault)', () => {
    const egress = egressOf('api-gateway');
    const serviceRules = egress.filter((r) => r.to.some((p: any) => p.namespaceSelector));
    expect(serviceRules.flatMap(namespacesOf)).toEqual(serviceByName(spec, 'api-gateway').calls);
    const ipRules = egress.filter((r) => r.to.every((p: any) => p.ipBlock));
    expect(ipRules.map(ports)).toEqual([[spec.vault.apiPort], [spec.dataTier.redis.port]]);
  });

  it('lets each service reach only its own data stores and Kafka', () => {
    for (const service of spec.services.filter((s) => s.name !== 'api-gateway')) {
      const kinds = service.secrets;
      const egress = egressOf(service.name);
      const toPgbouncer = egress.filter((r) => namespacesOf(r).includes('pgbouncer'));
      expect(toPgbouncer.length).toBe(kinds.includes('database') ? 1 : 0);
      const restricted = egress.filter((r) => r.to[0].ipBlock && zones.restricted.includes(r.to[0].ipBlock.cidr)).flatMap(ports);
      expect(restricted.sort()).toEqual([
        ...(kinds.includes('cache') ? [spec.dataTier.redis.port] : []),
        ...(kinds.includes('broker') ? [spec.dataTier.kafka.saslScramPort] : []),
      ].sort());
      // No service goes to PostgreSQL directly: only PgBouncer does.
      expect(egress.flatMap(ports)).not.toContain(spec.dataTier.postgres.port);
      const callees = egress.filter((r) => r.to.some((p: any) => p.namespaceSelector) && !namespacesOf(r).includes('pgbouncer')).flatMap(namespacesOf);
      expect(callees).toEqual(service.calls);
    }
  });

  it('lets only the load balancer (public subnets) and the VPN (its interfaces in the DMZ subnets) reach the gateway\'s ports', () => {
    const ingress = findObject(charts['api-gateway']!, 'NetworkPolicy', 'api-gateway-ingress').spec.ingress as any[];
    const gateway = spec.services.find((s) => s.name === 'api-gateway')!;
    const toServicePort = ingress.filter((r) => ports(r).includes(gateway.port));
    expect(toServicePort).toEqual([
      { from: zones.public.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: gateway.port }, { protocol: 'TCP', port: gateway.healthPort }] },
      { from: zones.dmz.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: gateway.port }] },
    ]);
  });

  it('closes the restricted zone to every add-on namespace\'s pods, and nothing else', () => {
    const guards = charts.namespaces!.filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'restricted-zone-guard');
    expect(guards.map((g) => g.metadata.namespace)).toEqual(addOnNamespaces(spec));
    expect(guards.map((g) => g.metadata.namespace)).toEqual(expect.arrayContaining(['kube-system', 'monitoring', 'cert-manager', 'keda', 'vault']));
    for (const guard of guards) {
      expect(guard.spec).toEqual({ podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: zones.restricted } }] }] });
    }
  });

  it('lets the Vault agents reach Vault\'s standby VPC after a failover, on the API port only', () => {
    const standby = spec.vault.standbyVpc.cidrs[envName];
    for (const service of spec.services) {
      const egress = findObject(charts[service.name]!, 'NetworkPolicy', `${service.name}-egress`).spec.egress as any[];
      const toStandby = egress.filter((r) => r.to.some((p: any) => p.ipBlock?.cidr === standby));
      expect(toStandby).toEqual([{ to: [...zones.private, standby].map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: spec.vault.apiPort }] }]);
    }
  });

  it('opens the internet only to the payment provider\'s users, on its API port, never to our own networks or the metadata service', () => {
    const environment = spec.environments[envName];
    const zoneBlocks = Object.values(zones).flat();
    const internetUsers: string[] = [];
    // The add-on namespaces' guards are checked above (they allow everything but the restricted zone).
    const policies = Object.values(charts).flat().filter((o) => o.kind === 'NetworkPolicy' && o.metadata.name !== 'restricted-zone-guard');
    for (const policy of policies) {
      for (const rule of [...(policy.spec.egress ?? []), ...(policy.spec.ingress ?? [])]) {
        for (const peer of [...(rule.to ?? []), ...(rule.from ?? [])].filter((p: any) => p.ipBlock)) {
          // Every other ipBlock names a subnet of a zone, or Vault's standby VPC: nothing else is widened.
          if (zoneBlocks.includes(peer.ipBlock.cidr)) continue;
          if (peer.ipBlock.cidr === spec.vault.standbyVpc.cidrs[envName]) {
            expect(ports(rule)).toEqual([spec.vault.apiPort]);
            continue;
          }
          expect({ policy: policy.metadata.name, cidr: peer.ipBlock.cidr }).toEqual({ policy: policy.metadata.name, cidr: '0.0.0.0/0' });
          expect(rule.to).toHaveLength(1);
          expect(ports(rule)).toEqual([paymentProviderPort(spec)]);
          internetUsers.push(policy.metadata.namespace);
          const except: string[] = peer.ipBlock.except;
          const excluded = (target: string) => except.some((block) => within(target, block));
          for (const target of [...zoneBlocks, environment.network.vpcCidr, environment.network.vpn.clientCidr,
            spec.vault.standbyVpc.cidrs[envName], '169.254.169.254', '169.254.170.23', '10.100.0.0/16', '172.20.0.0/16', '192.168.1.1']) {
            expect({ target, excluded: excluded(target) }).toEqual({ target, excluded: true });
          }
          expect(except).toContain(environment.network.vpcCidr);
          expect(excluded('52.94.236.248')).toBe(false); // a public address stays reachable
        }
      }
    }
    const expected = spec.services.filter((s) => s.secrets.includes('payment-provider')).map((s) => s.name);
    expect(internetUsers).toEqual(expected);
    expect(expected).toEqual(['payment-service']);
    expect(paymentProviderPort(spec)).toBe(443);
  });
});
