/**
 * Reads what a synthesis produced: the stacks of a cloud assembly (nested Stage assemblies
 * included) and the rendered Kubernetes manifests. Plain file reading, no aws-cdk-lib: the base
 * tree may have been synthesized by another version of the library.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CfnTemplate { Resources?: Record<string, { Type: string; [key: string]: unknown }>; [key: string]: unknown }

export interface AssemblyStack {
  /** Identity across the two trees: CloudFormation stack name and target environment. */
  readonly key: string;
  /** The Stage (environment) holding the stack, `(app)` for a top-level stack. */
  readonly environment: string;
  /** CloudFormation stack name, e.g. platform-production-database. */
  readonly stackName: string;
  /** Construct path, e.g. production/Database. */
  readonly displayName: string;
  /** aws://account/region. */
  readonly target: string;
  readonly template: CfnTemplate;
}

/** The two directories one synthesis of a tree writes. */
export interface SynthOutput {
  /** The cloud assembly (what `cdk synth` writes to cdk.out/). */
  readonly cdkOut: string;
  /** The rendered manifests: <dist>/<env>/*.k8s.yaml. Absent when the tree has no charts. */
  readonly dist?: string;
}

interface ManifestJson {
  artifacts?: Record<string, {
    type: string; environment?: string; displayName?: string;
    properties?: { directoryName?: string; displayName?: string; templateFile?: string; stackName?: string };
  }>;
}

export function readAssemblyStacks(cdkOut: string): AssemblyStack[] {
  const stacks: AssemblyStack[] = [];
  const visit = (dir: string, environment: string) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as ManifestJson;
    for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
      if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
        visit(path.join(dir, artifact.properties.directoryName), artifact.properties.displayName ?? id);
      } else if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
        const stackName = artifact.properties.stackName ?? id;
        const target = artifact.environment ?? 'aws://unknown-account/unknown-region';
        stacks.push({
          key: `${stackName} ${target}`,
          environment,
          stackName,
          displayName: artifact.displayName ?? id,
          target,
          template: JSON.parse(fs.readFileSync(path.join(dir, artifact.properties.templateFile), 'utf8')) as CfnTemplate,
        });
      }
    }
  };
  visit(cdkOut, '(app)');
  return stacks;
}

/** Every rendered manifest, by path relative to dist (e.g. production/namespaces.k8s.yaml). */
export function readManifests(dist: string | undefined): Map<string, string> {
  const manifests = new Map<string, string>();
  if (!dist || !fs.existsSync(dist)) return manifests;
  const files = fs.readdirSync(dist, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.k8s.yaml')).map((file) => file.split(path.sep).join('/')).sort();
  for (const file of files) manifests.set(file, fs.readFileSync(path.join(dist, file), 'utf8'));
  return manifests;
}
