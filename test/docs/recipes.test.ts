/**
 * docs/recipes.md walked through for real, on copies of the spec: an autoscaling number changed
 * reaches the rendered autoscaler of every environment and the docs' services tables (and nothing
 * else); a service added with only its `services[]` entry is refused naming each entry the recipe
 * lists, and with them it gets its chart, its Vault policy and its rows in the docs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yaml from 'yaml';
import { renderCharts } from '../../charts/main';
import { ENVIRONMENT_NAMES, loadPlatformSpec, PlatformSpecError } from '../../lib/spec';
import { platformSpecData } from '../../lib/spec/platform';
import { vaultConfigFiles } from '../../lib/vault/config-as-code';
import type { CostReport } from '../../scripts/cost/assembly';
import { generateDocs, renderedAutoscaling } from '../../scripts/docs/generate';
import { findRegions } from '../../scripts/docs/regions';

const ROOT = path.join(__dirname, '..', '..');
const recipes = fs.readFileSync(path.join(ROOT, 'docs', 'recipes.md'), 'utf8');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'recipes-test-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** No stack list or cost here: these regions do not depend on the spec's services. */
const NO_COST: CostReport = {
  currency: 'USD', hoursPerMonth: 730, prices: { date: '-', source: '-', regions: [] },
  total: 0, unknown: 0, environments: [], notEstimated: [],
};
const spec0 = loadPlatformSpec();
const baseline = generateDocs(ROOT, { spec: spec0, autoscaling: renderedAutoscaling(spec0), cost: NO_COST });

const mutable = () => structuredClone(platformSpecData) as any;
const region = (text: string, name: string) => findRegions(text).find((r) => r.name === name)!.body;
const staleAgainstBaseline = (results: ReturnType<typeof generateDocs>) => results.flatMap((r) => {
  const before = baseline.find((b) => b.file === r.file)!;
  return findRegions(r.generated).filter((g) => region(before.generated, g.name) !== g.body).map((g) => `${r.file} ${g.name}`);
});

function readBack(outdir: string, env: string, chart: string) {
  return yaml.parseAllDocuments(fs.readFileSync(path.join(outdir, env, `${chart}.k8s.yaml`), 'utf8')).map((d) => d.toJS());
}

describe('Change an autoscaling number', () => {
  it('names the commands and files it relies on, and they exist', () => {
    const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    for (const command of ['synth', 'docs', 'diff', 'cost']) {
      expect(recipes).toContain(`npm run ${command}`);
      expect(scripts[command]).toBeDefined();
    }
    expect(recipes).toContain('npx jest -u test/charts/snapshots.test.ts');
    for (const file of ['lib/spec/platform.ts', 'test/spec/spec.test.ts', 'test/charts/autoscaling.test.ts', 'test/charts/snapshots.test.ts', 'scripts/dev.ts']) {
      expect(recipes).toContain(file);
      expect(fs.existsSync(path.join(ROOT, file))).toBe(true);
    }
  });

  it("order-service's maximum raised to 14: its autoscaler in every environment and the services tables change, nothing else", () => {
    const data = mutable();
    const order = data.services.find((s: { name: string }) => s.name === 'order-service');
    order.autoscaling.maxReplicas = 14;
    const changed = loadPlatformSpec({ data });

    const outdir = path.join(work, 'autoscaling');
    renderCharts(changed, outdir);
    for (const env of ENVIRONMENT_NAMES) {
      const hpa = readBack(outdir, env, 'order-service').find((o) => o.kind === 'HorizontalPodAutoscaler');
      expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 14]);
    }

    const results = generateDocs(ROOT, { spec: changed, autoscaling: renderedAutoscaling(changed), cost: NO_COST });
    expect(staleAgainstBaseline(results)).toEqual(['README.md services', 'docs/workloads.md services']);
    const row = region(results.find((r) => r.file === 'README.md')!.generated, 'services').split('\n').find((l) => l.startsWith('| `order-service`'));
    expect(row).toBe('| `order-service` | 8004 | 9004 | private | 2-14 | 2-14 | CPU > 70% | Order management |');
  });

  it('a minimum above the maximum is refused naming the field, as step 1 says', () => {
    const data = mutable();
    data.services[4].autoscaling.minReplicas = 11;
    expect(() => loadPlatformSpec({ data })).toThrow('services.4.autoscaling.minReplicas = 11: must be <= maxReplicas (10) of service order-service');
  });
});

describe('Add a service', () => {
  const service = {
    name: 'inventory-service', port: 8005, healthPort: 9005, readinessPath: '/readyz', zone: 'private', purpose: 'Stock levels',
    autoscaling: { minReplicas: 2, maxReplicas: 6, trigger: { type: 'cpu', targetUtilizationPercent: 70 } },
  };

  it('with only the fields every entry has, the spec names each missing field the recipe lists', () => {
    const data = mutable();
    data.services.push(service);
    let problems: readonly string[] = [];
    try {
      loadPlatformSpec({ data });
    } catch (error) {
      if (!(error instanceof PlatformSpecError)) throw error;
      problems = error.problems;
    }
    const fields = problems.map((p) => p.split(/[ :]/)[0]).sort();
    expect(fields).toEqual(['services.5.resources', 'services.5.secrets', 'services.5.slo']);
    for (const field of fields) expect(recipes).toContain(`- \`${field.split('.').pop()}\`:`);
  });

  it('with those entries it loads, and gets its chart, Vault policy, and rows in the docs', () => {
    const data = mutable();
    data.services.push({
      ...service,
      resources: structuredClone(data.services[4].resources),
      slo: { errorRateMaxPercent: 0.5, latencyP99MaxMs: 300 },
      secrets: ['database'],
      database: { name: 'inventory' },
    });
    data.services[0].calls.push('inventory-service');
    // A fifth database gives PgBouncer more server connections to each instance than staging's
    // max_connections holds: the spec says so, and the recipe says what to raise.
    expect(() => loadPlatformSpec({ data })).toThrow(/environments\.staging\.database\.maxConnections = 500: must be >= PgBouncer's server connections/);
    expect(recipes).toContain('`environments.<env>.database.maxConnections`');
    data.environments.staging.database.maxConnections = 600;
    const changed = loadPlatformSpec({ data });

    const outdir = path.join(work, 'add');
    renderCharts(changed, outdir);
    for (const env of ENVIRONMENT_NAMES) {
      const objects = readBack(outdir, env, 'inventory-service');
      expect(objects.find((o) => o.kind === 'Deployment')?.metadata.name).toBe('inventory-service');
      expect(objects.find((o) => o.kind === 'HorizontalPodAutoscaler')?.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    }
    expect(Object.keys(vaultConfigFiles(changed))).toContain('vault/policies/inventory-service.hcl');

    const results = generateDocs(ROOT, { spec: changed, autoscaling: renderedAutoscaling(changed), cost: NO_COST });
    const readme = results.find((r) => r.file === 'README.md')!.generated;
    expect(region(readme, 'services')).toContain('| `inventory-service` | 8005 | 9005 | private | 2-6 | 2-6 | CPU > 70% | Stock levels |');
    const diagram = region(readme, 'architecture-diagram');
    expect(diagram).toContain('INVENTORY[inventory-service :8005]');
    expect(diagram).toContain('API_GATEWAY -->|gRPC mTLS| INVENTORY');
    expect(diagram).toContain('AUTH & USER & PAYMENT & ORDER & INVENTORY --> PGB --> RDS');
  });
});
