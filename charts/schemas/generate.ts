/**
 * Regenerates the JSON schemas kubeconform validates the rendered manifests against, offline
 * at test time (charts/schemas/README.md):
 *  - kubernetes/v<minor>/: standalone strict schemas of the core kinds the charts render, cut
 *    from the schemas the `kubernetes-validate` PyPI package ships for the spec's Kubernetes
 *    version (its `$ref`s into one shared definitions file are inlined per kind);
 *  - crds/<group>/<kind>_<version>.json: the CRDs of charts/crds, strict (no unknown fields).
 * Usage: tsx charts/schemas/generate.ts <kubernetes-json-schema/v1.NN.0-local-strict dir>
 * (charts/schemas/generate.sh downloads the package and runs this).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdk8s';
import * as yaml from 'yaml';
import { loadPlatformSpec } from '../../lib/spec';
import { addPlatformCharts } from '../main';
import { EXAMPLE_BINDINGS } from './example-bindings';

type Json = Record<string, unknown>;
/** The parts of a CustomResourceDefinition this script reads. */
interface Crd {
  spec: { group: string; names: { kind: string }; versions: Array<{ name: string; schema: { openAPIV3Schema: Json } }> };
}

export const SCHEMA_ROOT = path.join(__dirname);
export const CRD_SOURCE = path.join(__dirname, '..', 'crds');
export const kubernetesSchemaDir = (kubernetesVersion: string) => path.join(SCHEMA_ROOT, 'kubernetes', `v${kubernetesVersion}`);

/** kubeconform's file name of a core kind: <kind>[-<first label of the group>]-<version>.json. */
export function coreSchemaFile(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const groupPart = group ? `-${group!.split('.')[0]}` : '';
  return `${kind.toLowerCase()}${groupPart}-${version}.json`;
}

/** Every apiVersion/kind the charts render in any environment (bindings included). */
export function renderedKinds(): Array<{ apiVersion: string; kind: string }> {
  const spec = loadPlatformSpec();
  const seen = new Map<string, { apiVersion: string; kind: string }>();
  for (const environment of Object.values(spec.environments)) {
    const app = new App();
    addPlatformCharts(app, spec, environment, { bindings: EXAMPLE_BINDINGS });
    for (const chart of app.charts) {
      for (const object of chart.toJson() as Array<{ apiVersion: string; kind: string }>) {
        seen.set(`${object.apiVersion}/${object.kind}`, { apiVersion: object.apiVersion, kind: object.kind });
      }
    }
  }
  return [...seen.values()].sort((a, b) => `${a.apiVersion}/${a.kind}`.localeCompare(`${b.apiVersion}/${b.kind}`));
}

function standalone(kindSchema: Json, definitions: Record<string, Json>): Json {
  const needed = new Set<string>();
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    const out: Json = {};
    for (const [key, value] of Object.entries(node as Json)) {
      if (key === '$ref' && typeof value === 'string') {
        const name = value.replace(/^.*#\/\$defs\//, '');
        if (!definitions[name]) throw new Error(`unresolved $ref ${value}`);
        if (!needed.has(name)) {
          needed.add(name);
          defs[name] = rewrite(definitions[name]) as Json;
        }
        out[key] = `#/$defs/${name}`;
      } else {
        out[key] = rewrite(value);
      }
    }
    return out;
  };
  const defs: Record<string, Json> = {};
  const root = rewrite(kindSchema) as Json;
  delete root.$id;
  const sorted = Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b)));
  return { ...root, $defs: sorted };
}

/** OpenAPI v3 (CRD) -> JSON schema, strict: objects with declared properties accept no others. */
export function strictCrdSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictCrdSchema);
  if (!node || typeof node !== 'object') return node;
  const input = node as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, strictCrdSchema(v)]));
    } else if (key.startsWith('x-kubernetes-') || key === 'nullable') {
      continue;
    } else {
      out[key] = strictCrdSchema(value);
    }
  }
  if (input['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    if (!out.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (input.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (input.type === 'object' && input.properties && input.additionalProperties === undefined
    && input['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  return out;
}

function writeJson(file: string, value: unknown) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function main() {
  const source = process.argv[2];
  if (!source || !fs.existsSync(path.join(source, '_definitions.json'))) {
    throw new Error('usage: tsx charts/schemas/generate.ts <kubernetes-json-schema/v1.NN.0-local-strict dir> (see generate.sh)');
  }
  const spec = loadPlatformSpec();
  const versions = new Set(Object.values(spec.environments).map((e) => e.cluster.kubernetesVersion));
  if (versions.size !== 1) throw new Error(`environments run different Kubernetes versions (${[...versions].join(', ')}): generate one folder per version`);
  const outDir = kubernetesSchemaDir([...versions][0]!);
  fs.rmSync(outDir, { recursive: true, force: true });
  const definitions = (JSON.parse(fs.readFileSync(path.join(source, '_definitions.json'), 'utf8')) as { $defs: Record<string, Json> }).$defs;

  const crdGroups = new Set<string>();
  for (const file of fs.readdirSync(CRD_SOURCE).filter((f) => f.endsWith('.yaml')).sort()) {
    const crd = yaml.parse(fs.readFileSync(path.join(CRD_SOURCE, file), 'utf8')) as Crd;
    crdGroups.add(crd.spec.group);
    fs.rmSync(path.join(SCHEMA_ROOT, 'crds', crd.spec.group), { recursive: true, force: true });
  }
  for (const file of fs.readdirSync(CRD_SOURCE).filter((f) => f.endsWith('.yaml')).sort()) {
    const crd = yaml.parse(fs.readFileSync(path.join(CRD_SOURCE, file), 'utf8')) as Crd;
    for (const version of crd.spec.versions) {
      const schema = strictCrdSchema(version.schema.openAPIV3Schema) as Json;
      const target = path.join(SCHEMA_ROOT, 'crds', crd.spec.group, `${crd.spec.names.kind.toLowerCase()}_${version.name}.json`);
      writeJson(target, { $schema: 'http://json-schema.org/draft-07/schema#', ...schema });
    }
  }

  for (const { apiVersion, kind } of renderedKinds()) {
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
    if (crdGroups.has(group)) continue;
    const file = coreSchemaFile(apiVersion, kind);
    const kindSchema = JSON.parse(fs.readFileSync(path.join(source, file), 'utf8')) as Json;
    writeJson(path.join(outDir, file), standalone(kindSchema, definitions));
  }
  console.log(`schemas written to ${path.relative(process.cwd(), SCHEMA_ROOT)}/`);
}

if (require.main === module) main();
