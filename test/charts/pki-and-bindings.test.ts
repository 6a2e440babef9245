import { EXAMPLE_BINDINGS } from '../../charts/schemas/example-bindings';
import { BINDING_PLACEHOLDERS, BINDING_VARIABLES, SUBSTITUTION_SYNTAX } from '../../charts/lib/bindings-variables';
import { appliedEnvironment, findObject, renderEnvironment, spec } from './helpers';

describe('pki chart', () => {
  it('issues production certificates from Vault PKI, logging in with a vault-audience token', () => {
    expect(spec.workloads.certificates.issuer.production).toBe('vault-pki');
    const objects = renderEnvironment('production').pki!;
    const issuer = findObject(objects, 'ClusterIssuer', 'platform-services');
    expect(issuer.spec.vault).toMatchObject({
      server: `https://vault.${spec.clusterAddons.vaultInjector.namespace}.svc.cluster.local:${spec.vault.apiPort}`,
      path: spec.workloads.certificates.vaultPkiPath,
      auth: { kubernetes: { role: 'cert-manager', serviceAccountRef: { name: 'cert-manager-vault-issuer', audiences: ['vault'] } } },
    });
    const role = findObject(objects, 'Role', 'cert-manager-vault-issuer');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: ['cert-manager-vault-issuer'], verbs: ['create'] }]);
  });

  it('issues staging certificates from a self-signed CA under the same issuer name', () => {
    expect(spec.workloads.certificates.issuer.staging).toBe('self-signed');
    const objects = renderEnvironment('staging').pki!;
    expect(findObject(objects, 'ClusterIssuer', 'platform-services').spec).toEqual({ ca: { secretName: 'platform-services-ca' } });
    expect(findObject(objects, 'Certificate', 'platform-services').spec).toMatchObject({ isCA: true, secretName: 'platform-services-ca' });
    expect(findObject(objects, 'ClusterIssuer', 'platform-services-root').spec).toEqual({ selfSigned: {} });
  });
});

describe('bindings chart (deploy-time values)', () => {
  // As Flux applies it: the artifact's variables substituted from the platform-bindings ConfigMap.
  const objects = appliedEnvironment('production').bindings!;

  it('is rendered into the artifact with the variables only, the same for every deploy', () => {
    for (const env of ['production', 'staging'] as const) {
      const text = JSON.stringify(renderEnvironment(env).bindings);
      expect([...new Set(text.match(SUBSTITUTION_SYNTAX))].sort()).toEqual(BINDING_VARIABLES.map((name) => `\${${name}}`).sort());
      expect(text).not.toMatch(/amazonaws\.com|arn:aws|sg-/);
    }
    const binding = findObject(renderEnvironment('production').bindings!, 'TargetGroupBinding', 'api-gateway', 'api-gateway');
    expect(binding.spec.targetGroupARN).toBe(BINDING_PLACEHOLDERS.apiGatewayTargetGroupArn);
  });

  it('binds the edge stack\'s target group to the api-gateway Service, pod IPs as targets', () => {
    const binding = findObject(objects, 'TargetGroupBinding', 'api-gateway', 'api-gateway');
    expect(binding.apiVersion).toBe('elbv2.k8s.aws/v1beta1');
    expect(binding.spec).toEqual({
      targetGroupARN: EXAMPLE_BINDINGS.apiGatewayTargetGroupArn,
      targetType: 'ip',
      serviceRef: { name: 'api-gateway', port: spec.services.find((s) => s.name === 'api-gateway')!.port },
    });
  });

  it('points the writer pool at the primary and the reader pool at the replicas', () => {
    const data = findObject(objects, 'ConfigMap', 'pgbouncer-databases', 'pgbouncer').data;
    expect(data['pgbouncer.ini']).toContain(`auth = host=${EXAMPLE_BINDINGS.databaseWriterHost} port=5432 dbname=auth`);
    expect(data['pgbouncer-reader.ini']).toContain(`users = host=${EXAMPLE_BINDINGS.databaseReaderHosts.join(',')} port=5432 dbname=users`);
  });

  it('gives each namespace only the endpoints of its own stores', () => {
    const endpoints = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === 'data-endpoints');
    expect(Object.fromEntries(endpoints.map((o) => [o.metadata.namespace, Object.keys(o.data).sort()]))).toEqual({
      'api-gateway': ['REDIS_HOST'], 'auth-service': ['REDIS_HOST'], 'user-service': ['REDIS_HOST'], 'order-service': ['KAFKA_BROKERS'], 'payment-service': ['KAFKA_BROKERS'],
    });
  });

  it('puts the DMZ zone\'s security group on the pods of the DMZ services, and on no other pod', () => {
    const policies = objects.filter((o) => o.kind === 'SecurityGroupPolicy');
    expect(policies.map((p) => [p.apiVersion, p.metadata.namespace, p.spec])).toEqual(
      spec.services.filter((s) => s.zone === 'dmz').map((s) => ['vpcresources.k8s.aws/v1beta1', s.name, {
        podSelector: { matchLabels: { 'app.kubernetes.io/name': s.name, 'platform/zone': 'dmz' } },
        securityGroups: { groupIds: [EXAMPLE_BINDINGS.dmzSecurityGroupId] },
      }]),
    );
    // The selector matches the pods the gateway's chart renders.
    const gateway = findObject(appliedEnvironment('production')['api-gateway']!, 'Deployment', 'api-gateway');
    expect(gateway.spec.template.metadata.labels).toMatchObject(policies[0].spec.podSelector.matchLabels);
  });
});

describe('the in-cluster name of Vault', () => {
  it('is an ExternalName Service on the environment\'s private DNS name of Vault, which a failover moves', () => {
    for (const env of ['production', 'staging'] as const) {
      expect(findObject(renderEnvironment(env).namespaces!, 'Service', 'vault', spec.clusterAddons.vaultInjector.namespace).spec)
        .toEqual({ type: 'ExternalName', externalName: `vault.${env}.platform.internal` });
    }
  });
});
