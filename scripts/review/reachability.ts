/**
 * The reachability section of `npm run diff`: the flows a change opens or closes, found by
 * evaluating the whole matrix (every endpoint to every other, on the destination's ports) of the
 * base and of the head with the reachability model, and classified by the head's lib/spec:
 * forbidden openings (the zone table), required flows closed, then everything else.
 */
import type { EnvironmentName, PlatformSpec } from '../../lib/spec';
import type { Coverage } from '../reachability/addresses';
import { checkModel, environmentModel, flowKey, sweep } from '../reachability/check';
import type { Verdict } from '../reachability/evaluate';
import { forbiddenBy, Locator } from '../reachability/flows';
import type { Model } from '../reachability/model';
import { blockedBy } from '../reachability/render';
import { portLabel } from '../reachability/types';
import { readAssemblyStacks } from './assembly';
import type { SynthOutput } from './assembly';

export interface ReachabilityChange {
  readonly environment: string;
  /** opened: closed before, (partly) open now; closed: the reverse; widened/narrowed: all <-> partly. */
  readonly change: 'opened' | 'closed' | 'widened' | 'narrowed';
  readonly from: string;
  readonly to: string;
  readonly port: string;
  readonly before: Coverage;
  readonly after: Coverage;
  /** The zone rule the flow breaks, when it is open now and must not be. */
  readonly forbidden?: string;
  /** The spec's reason, when the flow is required and not fully open now. */
  readonly required?: string;
  /** Where a closed flow stops now, or how an opened one goes. */
  readonly detail?: string;
}

export interface ReachabilityDiff {
  readonly changes: readonly ReachabilityChange[];
  /** Environments compared; others could not be modelled, with the reason. */
  readonly environments: readonly string[];
  readonly skipped: ReadonlyArray<{ readonly environment: string; readonly reason: string }>;
}

const RANK = (c: ReachabilityChange) => (c.forbidden && (c.change === 'opened' || c.change === 'widened') ? 0
  : c.required && (c.change === 'closed' || c.change === 'narrowed') ? 1 : c.change === 'opened' || c.change === 'widened' ? 2 : 3);

/** The highest-priority first: forbidden openings, required flows closed, other openings, other closings. */
export function sortChanges(changes: ReachabilityChange[]): ReachabilityChange[] {
  return changes.sort((a, b) => RANK(a) - RANK(b) || a.environment.localeCompare(b.environment)
    || a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.port.localeCompare(b.port));
}

function environmentsOf(output: SynthOutput): string[] {
  return [...new Set(readAssemblyStacks(output.cdkOut).map((s) => s.environment))].filter((e) => e !== '(app)');
}

const ORDER: Record<Coverage, number> = { none: 0, some: 1, all: 2 };

export function compareReachability(base: SynthOutput, head: SynthOutput, spec: PlatformSpec): ReachabilityDiff {
  const changes: ReachabilityChange[] = [];
  const environments: string[] = [];
  const skipped: Array<{ environment: string; reason: string }> = [];
  const all = [...new Set([...environmentsOf(base), ...environmentsOf(head)])].sort();
  for (const environment of all) {
    if (!(environment in spec.environments)) {
      skipped.push({ environment, reason: 'not an environment of lib/spec' });
      continue;
    }
    let models: [Model | undefined, Model | undefined];
    try {
      const model = (output: SynthOutput) => (environmentsOf(output).includes(environment) ? environmentModel(spec, { ...output, environment }) : undefined);
      models = [model(base), model(head)];
    } catch (error) {
      skipped.push({ environment, reason: `could not model it: ${(error as Error).message}` });
      continue;
    }
    environments.push(environment);
    const [before, after] = models.map((m) => (m ? sweep(spec, m) : new Map<string, Verdict>()));
    const classify = (model: Model) => {
      const locator = new Locator(model, spec, spec.environments[environment as EnvironmentName]);
      const required = new Map(checkModel(spec, model).required.map((r) => [flowKey(r.from, r.to, r.port), r.why]));
      return { locator, required };
    };
    const rules = { before: models[0] ? classify(models[0]) : undefined, after: models[1] ? classify(models[1]) : undefined };
    for (const key of new Set([...before!.keys(), ...after!.keys()])) {
      const was = before!.get(key);
      const now = after!.get(key);
      const b = was?.coverage ?? 'none';
      const a = now?.coverage ?? 'none';
      if (a === b) continue;
      const verdict = (now ?? was)!;
      const side = now ? rules.after! : rules.before!;
      const change = b === 'none' ? 'opened' : a === 'none' ? 'closed' : ORDER[a] > ORDER[b] ? 'widened' : 'narrowed';
      const forbidden = a !== 'none' ? forbiddenBy(side.locator, verdict.from, verdict.to, verdict.port) : undefined;
      const required = side.required.get(key) ?? (rules.before?.required.get(key));
      changes.push({
        environment, change, from: verdict.from.label, to: verdict.to.label, port: portLabel(verdict.port), before: b, after: a,
        ...(forbidden ? { forbidden } : {}),
        ...(required ? { required } : {}),
        ...(a !== 'all' && now?.blocked ? { detail: blockedBy(now) } : now?.via ? { detail: `via ${now.via}` } : {}),
      });
    }
  }
  return { changes: sortChanges(changes), environments, skipped };
}
