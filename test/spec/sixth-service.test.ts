/**
 * A service is one entry in the spec's services[] (plus its code folder): a copy of the spec
 * with a sixth service, inventory-service, called by the gateway, with its own database, the
 * cache and a generated key of its own, reaches everything the repository derives from the spec
 * without another edit: the CDK synth of an environment (its image repository, zone rules, the
 * charts the cluster applies, its Prometheus alerts) with every flow it needs open and nothing
 * forbidden opened; the rendered charts of both environments; the Vault configuration; and the
 * plan of `npm run dev`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as yaml from 'yaml';
import { PlatformStage } from '../../bin/platform-stage';
import { renderCharts } from '../../charts/main';
import { ENVIRONMENT_NAMES, loadPlatformSpec } from '../../lib/spec';
import type { PlatformSpec } from '../../lib/spec';
import { platformSpecData } from '../../lib/spec/platform';
import { renderKubernetesRoles, vaultConfigFiles } from '../../lib/vault/config-as-code';
import { devPlan, serviceEnvironment } from '../../scripts/dev';
import type { DevEndpoints } from '../../scripts/dev';
import { checkModel, environmentModel } from '../../scripts/reachability/check';
import { appContext } from '../../scripts/review/synth-trees';
import type { EnvironmentReport } from '../../scripts/reachability/check';
import { testApp } from '../helpers/app';
import type { Mutable } from '../helpers/spec';

jest.setTimeout(300_000);

const ROOT = path.join(__dirname, '..', '..');
const NAME = 'inventory-service';
const KEY = { path: 'reservations', field: 'hmacKey', bytes: 32, file: 'reservation-hmac-key', env: 'INVENTORY_RESERVATION_KEY_FILE' };

/**
 * The spec with the sixth service: its services[] entry and the gateway calling it. Nothing else
 * names the service: the spec keeps no per-service tables outside its entry.
 */
function specWithSixthService(): PlatformSpec {
  const data = structuredClone(platformSpecData) as Mutable<PlatformSpec>;
  data.services.push({
    name: NAME, port: 8005, healthPort: 9005, readinessPath: '/readyz', zone: 'private', purpose: 'Stock levels',
    autoscaling: { minReplicas: 2, maxReplicas: 6, trigger: { type: 'cpu', targetUtilizationPercent: 70 } },
    exposes: 'grpc', generatedKeys: [KEY],
    secrets: ['database', 'cache'], calls: [], database: { name: 'inventory', replicaReads: false },
    resources: { requests: { cpu: '250m', memory: '384Mi' }, limits: { cpu: '1', memory: '384Mi' } },
    slo: { errorRateMaxPercent: 0.5, latencyP99MaxMs: 300 },
  });
  // Who calls it is the caller's fact, in the caller's entry.
  data.services.find((s) => s.name === 'api-gateway')!.calls.push(NAME);
  // A fifth database does not fit staging's max_connections (docs/recipes.md "Add a service").
  data.environments.staging.database.maxConnections = 600;
  return loadPlatformSpec({ data });
}

const spec = specWithSixthService();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sixth-service-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const dist = path.join(work, 'dist');
renderCharts(spec, dist);

const readBack = (env: string, chart: string): any[] =>
  yaml.parseAllDocuments(fs.readFileSync(path.join(dist, env, `${chart}.k8s.yaml`), 'utf8')).map((d) => d.toJS());
const find = (objects: any[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const envOf = (deployment: any): Record<string, string | undefined> =>
  Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
const admits = (rule: any, namespace: string) => rule.from?.some((p: any) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === namespace);
const reaches = (rule: any, namespace: string) => rule.to?.some((p: any) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === namespace);
const ports = (rule: any) => rule.ports.map((p: any) => p.port);

describe.each(ENVIRONMENT_NAMES)('the charts of %s', (env) => {
  const objects = readBack(env, NAME);

  it('deploy it as a gRPC service on its port, with its database, cache and generated key', () => {
    const deployment = find(objects, 'Deployment', NAME);
    expect(deployment.spec.template.spec.containers[0].ports).toEqual([
      { name: 'grpc', containerPort: 8005, protocol: 'TCP' }, { name: 'health', containerPort: 9005, protocol: 'TCP' },
    ]);
    const vars = envOf(deployment);
    expect(vars).toMatchObject({
      GRPC_PORT: '8005', HEALTH_PORT: '9005', GRPC_ALLOWED_PEERS: 'api-gateway', DATABASE_NAME: 'inventory', DATABASE_USER: 'inventory_service',
      REDIS_PASSWORD_FILE: '/vault/secrets/redis-password', INVENTORY_RESERVATION_KEY_FILE: '/vault/secrets/reservation-hmac-key',
    });
    expect(Object.keys(vars)).not.toEqual(expect.arrayContaining(['HTTP_PORT']));
    expect(vars.JWT_ISSUER).toBeUndefined();
    const annotations = deployment.spec.template.metadata.annotations;
    expect(annotations['vault.hashicorp.com/role']).toBe(NAME);
    expect(annotations['vault.hashicorp.com/agent-inject-secret-reservation-hmac-key']).toBe(`kv/data/services/${NAME}/reservations`);
    expect(annotations['vault.hashicorp.com/agent-inject-template-reservation-hmac-key'])
      .toBe(`{{- with secret "kv/data/services/${NAME}/reservations" -}}{{ .Data.data.hmacKey }}{{- end -}}`);
    expect(annotations['vault.hashicorp.com/agent-inject-secret-database-password']).toBe(`database/static-creds/${NAME}`);
  });

  it('give it a headless Service, its autoscaler and its namespace', () => {
    expect(find(objects, 'Service', NAME).spec).toMatchObject({ clusterIP: 'None', ports: [{ name: 'grpc', port: 8005 }, { name: 'health', port: 9005 }] });
    expect(find(objects, 'HorizontalPodAutoscaler', NAME).spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(readBack(env, 'namespaces').filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toContain(NAME);
  });

  it('admit its caller and only its caller, and let it reach PgBouncer and the cache', () => {
    const ingress = find(objects, 'NetworkPolicy', `${NAME}-ingress`).spec.ingress;
    const callers = ingress.filter((rule: any) => ports(rule).includes(8005));
    expect(callers).toHaveLength(1);
    expect(callers[0].from).toHaveLength(1);
    expect(admits(callers[0], 'api-gateway')).toBe(true);
    expect(ingress.some((rule: any) => rule.from.some((p: any) => p.ipBlock))).toBe(false);
    const egress = find(objects, 'NetworkPolicy', `${NAME}-egress`).spec.egress;
    expect(egress.some((rule: any) => reaches(rule, 'pgbouncer') && ports(rule).includes(spec.dataTier.pgbouncer.port))).toBe(true);
    expect(egress.some((rule: any) => ports(rule).includes(spec.dataTier.redis.port))).toBe(true);
  });

  it('point the gateway at it and let the gateway out to it', () => {
    const gateway = readBack(env, 'api-gateway');
    expect(envOf(find(gateway, 'Deployment', 'api-gateway')).INVENTORY_SERVICE_ADDR).toBe(`dns:///${NAME}.${NAME}.svc.cluster.local:8005`);
    const egress = find(gateway, 'NetworkPolicy', 'api-gateway-egress').spec.egress;
    expect(egress.some((rule: any) => reaches(rule, NAME) && ports(rule).includes(8005))).toBe(true);
  });

  it('let PgBouncer serve its database to it', () => {
    const pgbouncer = readBack(env, 'pgbouncer');
    const ingress = find(pgbouncer, 'NetworkPolicy', 'pgbouncer-ingress').spec.ingress;
    expect(ingress.some((rule: any) => admits(rule, NAME))).toBe(true);
    expect(JSON.stringify(pgbouncer)).toContain(`database/static-creds/${NAME}`);
  });
});

describe('the CDK synth of staging', () => {
  const environment = spec.environments.staging;
  const cdkOut = path.join(work, 'cdk.out');
  let stage: PlatformStage;
  let report: EnvironmentReport;
  beforeAll(() => {
    // The context `npm run synth` gives the app (path metadata included: reachability names resources by path).
    const app = testApp({ outdir: cdkOut, context: { ...appContext(ROOT).context, 'services:imageTag': 'deadbeef' } });
    stage = new PlatformStage(app, 'staging', {
      spec, environment,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(app, 'Layer', `arn:aws:lambda:${environment.region}:${environment.account}:layer:kubectl:1`),
    });
    app.synth();
    report = checkModel(spec, environmentModel(spec, { cdkOut, dist, environment: 'staging' }));
  });

  it('gives it an image repository and admits the DMZ and the mesh on its port', () => {
    Template.fromStack(stage.registry).hasResourceProperties('AWS::ECR::Repository', { RepositoryName: `platform/${NAME}` });
    const network = Template.fromStack(stage.network);
    for (const description of [`api-gateway to ${NAME}`, `service mesh to ${NAME}`]) {
      network.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { Description: description, FromPort: 8005, ToPort: 8005 });
    }
  });

  it('is in the artifact Flux applies, at the image tag, and alerts on its SLOs', () => {
    // Flux applies dist/<env>/ (docs/gitops.md); CDK applies no workload chart.
    const cluster = Template.fromStack(stage.cluster);
    expect(Object.keys(cluster.findResources('Custom::AWSCDK-EKS-KubernetesResource')).filter((id) => id.startsWith('EksClusterChartinventoryservice'))).toEqual([]);
    const tagged = path.join(work, 'dist.tagged');
    renderCharts(spec, tagged, { imageTag: 'deadbeef' });
    const objects = yaml.parseAllDocuments(fs.readFileSync(path.join(tagged, 'staging', `${NAME}.k8s.yaml`), 'utf8')).map((d) => d.toJS());
    expect(find(objects, 'Deployment', NAME).spec.template.spec.containers[0].image).toMatch(new RegExp(`/platform/${NAME}:deadbeef$`));
    const text = JSON.stringify(cluster.toJSON());
    expect(text).toContain('InventoryServiceErrorRate');
    expect(text).toContain('InventoryServiceLatencyP99');
  });

  it('opens every flow it needs and nothing the zone table forbids (reachability)', () => {
    expect(report.missing).toEqual([]);
    expect(report.required.filter((f) => f.coverage !== 'all').map((f) => `${f.from.id} -> ${f.to.id} ${f.port.port}`)).toEqual([]);
    expect(report.forbidden.filter((f) => f.coverage !== 'none').map((f) => `${f.from.id} -> ${f.to.id} ${f.port.port}`)).toEqual([]);
    const pods = `k8s:${NAME}/${NAME}`;
    const required = (from: string | RegExp, to: string | RegExp, port: number) => report.required.filter((f) =>
      (typeof from === 'string' ? f.from.id === from : from.test(f.from.id)) && (typeof to === 'string' ? f.to.id === to : to.test(f.to.id)) && f.port.port === port);
    expect(required('k8s:api-gateway/api-gateway', pods, 8005).map((f) => f.coverage)).toEqual(['all']);
    expect(required(pods, 'k8s:pgbouncer/pgbouncer', spec.dataTier.pgbouncer.port).map((f) => f.coverage)).toEqual(['all']);
    expect(required(pods, /./, spec.dataTier.redis.port).length).toBeGreaterThan(0);
    expect(required(/prometheus-server$/, pods, 9005).map((f) => f.coverage)).toEqual(['all']);
  });
});

describe('the Vault configuration', () => {
  const files = vaultConfigFiles(spec);

  it('gives it a policy for its database, cache and generated key, and nothing else', () => {
    const policy = files[`vault/policies/${NAME}.hcl`]!;
    const paths = [...policy.matchAll(/^path "([^"]+)"/gm)].map((m) => m[1]);
    expect(paths).toEqual([`database/static-creds/${NAME}`, `kv/data/services/${NAME}/redis`, `kv/data/services/${NAME}/reservations`]);
  });

  it('binds its role to its service account, and bootstrap creates its login and generates its key', () => {
    expect(renderKubernetesRoles(spec)[`auth/kubernetes/role/${NAME}`]).toMatchObject({
      bound_service_account_names: [NAME], bound_service_account_namespaces: [NAME], token_policies: [NAME],
    });
    expect(JSON.parse(files['vault/database/static-roles.json']!)[`database/static-roles/${NAME}`]).toMatchObject({ username: 'inventory_service' });
    const bootstrap = JSON.parse(files['vault/bootstrap.json']!);
    expect(bootstrap.generatedKeys).toContainEqual({ path: `services/${NAME}/reservations`, field: 'hmacKey', bytes: 32 });
    expect(bootstrap.platformCredentials.find((c: any) => c.name === 'redis').paths).toContain(`services/${NAME}/redis`);
    expect(files['vault/policies/pgbouncer.hcl']).toContain(`database/static-creds/${NAME}`);
  });
});

describe('the plan of npm run dev', () => {
  it('leaves it out while it has no code folder, and names it', () => {
    const plan = devPlan(spec);
    expect(plan.missing).toEqual([NAME]);
    expect(plan.services.map((p) => p.name)).not.toContain(NAME);
  });

  it('starts it before its caller, with its database, key and the environment of its spec entry', () => {
    const main = path.join('services', NAME, 'src', 'main.ts');
    const plan = devPlan(spec, (file) => file.endsWith(main) || fs.existsSync(file));
    const order = plan.services.map((p) => p.name);
    expect(plan.missing).toEqual([]);
    expect(order.indexOf(NAME)).toBeLessThan(order.indexOf('api-gateway'));
    const inventory = plan.services.find((p) => p.name === NAME)!;
    expect(inventory).toMatchObject({ http: false, callees: [], secrets: ['database', 'cache'] });
    expect(plan.databases).toContainEqual({ service: NAME, database: 'inventory' });
    expect(plan.generatedKeys).toContainEqual({ service: NAME, key: KEY });
    const gateway = plan.services.find((p) => p.name === 'api-gateway')!;
    expect(gateway.callees).toContainEqual({ name: NAME, port: 8005 });

    const endpoints: DevEndpoints = {
      caFile: '/ca.pem', pg: { host: '127.0.0.1', port: 55432, caFile: '/pg-ca.pem' },
      redis: { host: '127.0.0.1', port: 56379, caFile: '/redis-ca.pem', username: 'services', passwordFile: '/redis-password' },
      databases: new Map(plan.databases.map((d) => [d.service, { database: d.database, user: d.service, passwordFile: `/${d.service}-password` }])),
      generatedKeyFiles: new Map(plan.generatedKeys.map((g) => [`services/${g.service}/${g.key.path}`, `/${g.service}-${g.key.file}`])),
    };
    const tls = { certFile: '/cert.pem', keyFile: '/key.pem' };
    const env = serviceEnvironment(plan, inventory, endpoints, 'info', tls);
    expect(env).toMatchObject({
      GRPC_PORT: '8005', HEALTH_PORT: '9005', DATABASE_NAME: 'inventory', DATABASE_PORT: '55432', REDIS_PORT: '56379',
      INVENTORY_RESERVATION_KEY_FILE: `/${NAME}-reservation-hmac-key`,
    });
    expect(env.HTTP_PORT).toBeUndefined();
    expect(env.JWT_ISSUER).toBeUndefined();
    expect(serviceEnvironment(plan, gateway, endpoints, 'info', tls).INVENTORY_SERVICE_ADDR).toBe('localhost:8005');
  });
});
