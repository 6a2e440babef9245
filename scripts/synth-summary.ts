/**
 * Prints what `npm run synth` produced: per environment, each stack and its resource count,
 * and the rendered manifests. Fails if the assembly recorded a context lookup (`missing`),
 * which would mean placeholder values were written into the templates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Manifest {
  artifacts?: Record<string, { type: string; properties?: Record<string, unknown> }>;
  missing?: unknown[];
}

export interface StackSummary { readonly environment: string; readonly stack: string; readonly resources: number }

export function summariseAssembly(outdir: string): { stacks: StackSummary[]; missing: number } {
  const stacks: StackSummary[] = [];
  let missing = 0;
  const visit = (dir: string, environment: string) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    missing += manifest.missing?.length ?? 0;
    for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
      if (artifact.type === 'cdk:cloud-assembly') {
        visit(path.join(dir, String(artifact.properties?.directoryName)), String(artifact.properties?.displayName ?? id));
      } else if (artifact.type === 'aws:cloudformation:stack') {
        const file = path.join(dir, String(artifact.properties?.templateFile));
        const template = JSON.parse(fs.readFileSync(file, 'utf8')) as { Resources?: object };
        stacks.push({
          environment,
          stack: String(artifact.properties?.stackName ?? id),
          resources: Object.keys(template.Resources ?? {}).length,
        });
      }
    }
  };
  visit(outdir, '(app)');
  return { stacks, missing };
}

interface ValidationReport {
  pluginReports?: { pluginName: string; conclusion: string; violations: { ruleName: string; violatingConstructs?: { constructPath: string }[] }[] }[];
}

/** Unacknowledged findings in cdk.out/validation-report.json, as `plugin rule @ path` lines. */
export function failedValidations(outdir: string): string[] {
  const file = path.join(outdir, 'validation-report.json');
  if (!fs.existsSync(file)) return [];
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as ValidationReport;
  return (report.pluginReports ?? []).filter((p) => p.conclusion !== 'success').flatMap((p) => p.violations.flatMap((v) =>
    (v.violatingConstructs ?? [{ constructPath: '?' }]).map((c) => `${p.pluginName}: ${v.ruleName} @ ${c.constructPath}`)));
}

function listManifests(distdir: string): string[] {
  if (!fs.existsSync(distdir)) return [];
  return fs.readdirSync(distdir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.k8s.yaml')).sort();
}

if (require.main === module) {
  const [outdir = 'cdk.out', distdir = 'dist'] = process.argv.slice(2);
  const { stacks, missing } = summariseAssembly(outdir);
  const width = Math.max(...stacks.map((s) => s.stack.length), 5);
  console.log(`${'environment'.padEnd(12)} ${'stack'.padEnd(width)} resources`);
  for (const s of stacks) console.log(`${s.environment.padEnd(12)} ${s.stack.padEnd(width)} ${String(s.resources).padStart(9)}`);
  const manifests = listManifests(distdir);
  console.log(`${stacks.length} stacks in ${outdir}/, ${manifests.length} manifests in ${distdir}/: ${manifests.join(', ')}`);
  // The app records every validator's verdict (CDK's CloudFormation rules, the cdk-nag packs);
  // this CLI version does not act on it, so the summary does.
  const failed = failedValidations(outdir);
  if (failed.length > 0) {
    console.error(`error: validation failed (see ${outdir}/validation-report.json):\n${failed.map((f) => `  - ${f}`).join('\n')}`);
    process.exit(1);
  }
  if (missing > 0) {
    console.error(`error: the assembly recorded ${missing} context lookup(s); synth must run offline (no fromLookup)`);
    process.exit(1);
  }
}
