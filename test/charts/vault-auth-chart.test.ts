import { Testing } from 'cdk8s';
import { chartTestApp } from '../helpers/chart-app';
import { VaultAuthChart } from '../../charts/vault-auth-chart';
import { TOKEN_REVIEWER } from '../../lib/spec/topology';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import { vaultClients } from '../../lib/vault/config-as-code';
import { renderEnvironment } from './helpers';

const spec = loadPlatformSpec();

describe.each(ENVIRONMENT_NAMES)("%s: Vault's token reviewer", (name) => {
  const manifests = Testing.synth(new VaultAuthChart(chartTestApp(), 'vault-auth', { spec, environment: spec.environments[name] }));
  const namespace = spec.clusterAddons.vaultInjector.namespace;

  it('is one ServiceAccount in the injector namespace, with no token mounted anywhere', () => {
    const accounts = manifests.filter((m) => m.kind === 'ServiceAccount');
    expect(accounts.map((a) => [a.metadata.namespace, a.metadata.name, a.automountServiceAccountToken])).toEqual([[namespace, TOKEN_REVIEWER.serviceAccount, false]]);
  });

  it('has a long-lived token Secret the token controller fills for that account', () => {
    const secret = manifests.find((m) => m.kind === 'Secret');
    expect(secret).toMatchObject({
      type: 'kubernetes.io/service-account-token',
      metadata: { name: TOKEN_REVIEWER.secret, namespace, annotations: { 'kubernetes.io/service-account.name': TOKEN_REVIEWER.serviceAccount } },
    });
    expect(secret.data ?? {}).toEqual({});
  });

  it('binds system:auth-delegator to that account alone, and to no Vault client', () => {
    const bindings = manifests.filter((m) => m.kind === 'ClusterRoleBinding');
    expect(bindings.map((b) => [b.roleRef.name, b.subjects])).toEqual([
      ['system:auth-delegator', [{ kind: 'ServiceAccount', name: TOKEN_REVIEWER.serviceAccount, namespace }]],
    ]);
    // Across every chart of the environment: the workloads' accounts get no cluster-wide right.
    const everything = Object.values(renderEnvironment(name)).flat();
    const delegators = everything.filter((o) => o.kind === 'ClusterRoleBinding' && o.roleRef.name === 'system:auth-delegator').flatMap((b) => b.subjects);
    expect(delegators).toEqual([{ kind: 'ServiceAccount', name: TOKEN_REVIEWER.serviceAccount, namespace }]);
    const clients = new Set(vaultClients(spec).map((c) => `${c.namespace}/${c.serviceAccount}`));
    expect(delegators.filter((s: any) => clients.has(`${s.namespace}/${s.name}`))).toEqual([]);
  });
});
