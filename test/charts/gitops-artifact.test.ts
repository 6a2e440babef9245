import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { renderCharts } from '../../charts/main';
import { BINDING_VARIABLES, bindingsVariables, SUBSTITUTION_SYNTAX, substituteBindings } from '../../charts/lib/bindings-variables';
import { EXAMPLE_BINDINGS } from '../../charts/schemas/example-bindings';
import { CHART_ENVIRONMENT_NAMES, spec } from './helpers';

/**
 * dist/<env>/ is the artifact Flux applies with post-build substitution on: whatever substitution
 * syntax a manifest holds is rewritten in the cluster. Only the bindings chart may hold any, and
 * only its own variables.
 */
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'artifact-'));
afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));
const files = renderCharts(spec, outdir);
const syntaxIn = (text: string) => [...new Set(text.match(SUBSTITUTION_SYNTAX) ?? [])].sort();

describe('the rendered artifact (dist/<env>/)', () => {
  it('holds the bindings chart beside the workloads, in every environment', () => {
    for (const env of CHART_ENVIRONMENT_NAMES) expect(files).toContain(path.join(outdir, env, 'bindings.k8s.yaml'));
  });

  it('has no substitution syntax (${...}, $$) outside the bindings chart', () => {
    const found = files.filter((f) => path.basename(f) !== 'bindings.k8s.yaml')
      .map((f) => [path.relative(outdir, f), syntaxIn(fs.readFileSync(f, 'utf8'))] as const)
      .filter(([, syntax]) => syntax.length > 0);
    expect(found).toEqual([]);
    // PgBouncer's start script does use the shell's `$` (variables, `$(...)`, `$?`): text that
    // Flux's envsubst leaves alone, which is why the check is on its syntax, not on `$`.
    expect(fs.readFileSync(path.join(outdir, 'production', 'pgbouncer.k8s.yaml'), 'utf8')).toMatch(/\$pid\b/);
  });

  it('has in the bindings chart exactly the bindings\' variables, each one substituted by Flux', () => {
    for (const env of CHART_ENVIRONMENT_NAMES) {
      const text = fs.readFileSync(path.join(outdir, env, 'bindings.k8s.yaml'), 'utf8');
      expect(syntaxIn(text)).toEqual(BINDING_VARIABLES.map((name) => `\${${name}}`).sort());
      const applied = substituteBindings(text, bindingsVariables(EXAMPLE_BINDINGS));
      expect(syntaxIn(applied)).toEqual([]);
      expect(applied).toContain(EXAMPLE_BINDINGS.apiGatewayTargetGroupArn);
    }
  });
});

describe('substitution syntax', () => {
  it('is what envsubst rewrites: ${...} and the $$ escape, not the shell\'s bare $', () => {
    expect(syntaxIn('a ${X} b ${Y:-d} c $$ d $pid $(state) $? $! ${')).toEqual(['$$', '${', '${X}', '${Y:-d}']);
  });

  it('is refused by substituteBindings unless it is a variable of the bindings', () => {
    expect(substituteBindings('host=${CACHE_HOST} pid=$pid', { CACHE_HOST: 'h' })).toBe('host=h pid=$pid');
    expect(() => substituteBindings('${HOME}', {})).toThrow(/not a binding variable/);
    expect(() => substituteBindings('cost $$5', {})).toThrow(/not a binding variable/);
    expect(() => substituteBindings('${CACHE_HOST}', {})).toThrow(/no value/);
  });
});
