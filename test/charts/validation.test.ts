import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as yaml from 'yaml';
import { coreSchemaFile, kubernetesSchemaDir, renderedKinds } from '../../charts/schemas/generate';
import { chartEnvironments } from '../../lib/spec';
import { appliedEnvironment, CHART_ENVIRONMENT_NAMES, spec } from './helpers';

/**
 * Every manifest of every chart of every environment (the local one too), as Flux applies it (the
 * bindings' variables substituted with example values), is valid against the Kubernetes schemas of the cluster version the spec pins and the CRDs' schemas,
 * strictly (no unknown fields), and kube-score clean. Tools: scripts/setup/go-tools.sh.
 */
const root = path.join(__dirname, '..', '..');
const bin = (tool: string) => {
  const file = path.join(root, '.cache', 'go', 'bin', tool);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run bash scripts/setup/go-tools.sh (npm test does)`);
  return file;
};
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifests-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));
const filesOf = new Map<string, string[]>();
for (const env of CHART_ENVIRONMENT_NAMES) {
  for (const [chart, objects] of Object.entries(appliedEnvironment(env))) {
    const file = path.join(outdir, `${env}-${chart}.yaml`);
    fs.writeFileSync(file, objects.map((o) => yaml.stringify(o)).join('---\n'));
    filesOf.set(env, [...filesOf.get(env) ?? [], file]);
  }
}
const files = [...filesOf.values()].flat();
const localFiles = filesOf.get(spec.localCluster.name)!;
const awsFiles = files.filter((file) => !localFiles.includes(file));
const versions = [...new Set(chartEnvironments(spec).map((e) => e.cluster.kubernetesVersion))];

describe('rendered manifests', () => {
  it('have a shipped schema for every kind, for the Kubernetes version the spec pins', () => {
    expect(versions).toHaveLength(1);
    for (const { apiVersion, kind } of renderedKinds()) {
      const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
      const file = group.includes('.') && !group.endsWith('.k8s.io')
        ? path.join(root, 'charts', 'schemas', 'crds', group, `${kind.toLowerCase()}_${apiVersion.split('/')[1]}.json`)
        : path.join(kubernetesSchemaDir(versions[0]!), coreSchemaFile(apiVersion, kind));
      expect(fs.existsSync(file) ? file : `missing ${file}`).toBe(file);
    }
  });

  it('are valid against the Kubernetes and CRD schemas (kubeconform -strict, offline)', () => {
    const result = spawnSync(bin('kubeconform'), [
      '-strict', '-summary', '-output', 'json',
      '-schema-location', path.join(kubernetesSchemaDir(versions[0]!), '{{.ResourceKind}}{{.KindSuffix}}.json'),
      '-schema-location', path.join(root, 'charts', 'schemas', 'crds', '{{.Group}}', '{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'),
      ...files,
    ], { encoding: 'utf8' });
    const report = JSON.parse(result.stdout);
    const problems = (report.resources ?? []).filter((r: any) => r.status !== 'statusValid');
    expect(problems).toEqual([]);
    expect(report.summary).toMatchObject({ invalid: 0, errors: 0, skipped: 0 });
    expect(report.summary.valid).toBeGreaterThan(100);
    expect(result.status).toBe(0);
  });

  it('catch an unknown field (the validation is strict)', () => {
    const broken = path.join(outdir, 'broken.yaml');
    fs.writeFileSync(broken, fs.readFileSync(files[0]!, 'utf8').replace('metadata:', 'unexpected: 1\nmetadata:'));
    const result = spawnSync(bin('kubeconform'), ['-strict', '-schema-location', path.join(kubernetesSchemaDir(versions[0]!), '{{.ResourceKind}}{{.KindSuffix}}.json'), broken], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain("additional properties 'unexpected' not allowed");
  });

  type Ignored = Array<{ test: string; reason: string }>;
  const config = yaml.parse(fs.readFileSync(path.join(root, 'charts', 'kube-score.yaml'), 'utf8')) as { ignore: Ignored; localIgnore: Ignored };
  const kubeScore = (ignored: Ignored, targets: readonly string[]) => {
    const args = ['score', '--output-format', 'ci', ...ignored.flatMap((i) => ['--ignore-test', i.test]), ...targets];
    let output: string;
    try {
      output = execFileSync(bin('kube-score'), args, { encoding: 'utf8' });
    } catch (error: any) {
      output = `${error.stdout}`;
    }
    return output.split('\n').filter((line) => /^\[(CRITICAL|WARNING)\]/.test(line));
  };

  it('are kube-score clean, with only the justified exceptions of charts/kube-score.yaml', () => {
    for (const entry of [...config.ignore, ...config.localIgnore]) expect(entry.reason.length).toBeGreaterThan(40);
    expect(kubeScore(config.ignore, awsFiles)).toEqual([]);
    expect(kubeScore([...config.ignore, ...config.localIgnore], localFiles)).toEqual([]);
  });

  it.each(config.localIgnore.map((i) => [i.test, i] as const))('need the local exception %s for the local manifests', (_, entry) => {
    expect(kubeScore([...config.ignore, ...config.localIgnore.filter((i) => i !== entry)], localFiles)).not.toEqual([]);
  });
});
