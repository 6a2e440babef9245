/**
 * Runs the spec's expectations against a model: every required flow evaluated, and every pair of
 * endpoints (on each destination's ports) that a zone rule forbids swept for openings.
 */
import type { EnvironmentName, PlatformSpec } from '../../lib/spec';
import { evaluate } from './evaluate';
import type { Verdict } from './evaluate';
import { addOnPods, candidatePorts, forbiddenBy, Locator, requiredFlows } from './flows';
import type { MissingEndpoint, RequiredFlow } from './flows';
import { buildModel } from './model';
import type { Model, ModelInput } from './model';
import type { Endpoint, PortSpec } from './types';

export interface RequiredResult extends Verdict { readonly why: string }
export interface ForbiddenResult extends Verdict { readonly rule: string }

export interface EnvironmentReport {
  readonly environment: string;
  readonly model: Model;
  readonly required: readonly RequiredResult[];
  /** Every forbidden pair evaluated; `coverage` other than none is a violation. */
  readonly forbidden: readonly ForbiddenResult[];
  readonly missing: readonly MissingEndpoint[];
  /** Required flows not fully open, forbidden ones at least partly open, architecture parts not found. */
  readonly failures: number;
}

/** The model of one environment with what the spec adds to it (CloudFront's prefix list, add-on pods). */
export function environmentModel(spec: PlatformSpec, input: Omit<ModelInput, 'cloudFrontPrefixLists' | 'addOnPods'>): Model {
  return buildModel({ ...input, cloudFrontPrefixLists: spec.edge.cloudFrontOriginFacingPrefixLists, addOnPods: addOnPods(spec) });
}

export function checkModel(spec: PlatformSpec, model: Model): EnvironmentReport {
  const environment = spec.environments[model.environment as EnvironmentName];
  if (!environment) throw new Error(`the spec has no environment "${model.environment}"`);
  const locator = new Locator(model, spec, environment);
  const { flows, missing } = requiredFlows(locator);
  const required = dedupe(flows).map((flow) => ({ ...evaluate(model, flow.from, flow.to, flow.port), why: flow.why }));
  const forbidden: ForbiddenResult[] = [];
  const sources = model.endpoints.filter((e) => e.kind !== 'aws-api');
  const destinations = [...model.endpoints];
  for (const to of destinations) {
    const ports = candidatePorts(to, spec);
    for (const from of sources) {
      for (const port of ports) {
        const rule = forbiddenBy(locator, from, to, port);
        if (rule) forbidden.push({ ...evaluate(model, from, to, port), rule });
      }
    }
  }
  const failures = required.filter((r) => r.coverage !== 'all').length + forbidden.filter((f) => f.coverage !== 'none').length + missing.length;
  return { environment: model.environment, model, required, forbidden, missing, failures };
}

function dedupe(flows: readonly RequiredFlow[]): RequiredFlow[] {
  const seen = new Map<string, RequiredFlow>();
  for (const flow of flows) {
    const key = flowKey(flow.from, flow.to, flow.port);
    if (!seen.has(key)) seen.set(key, flow);
  }
  return [...seen.values()];
}

export const flowKey = (from: Endpoint, to: Endpoint, port: PortSpec) => `${from.id} -> ${to.id} ${port.protocol}/${port.port}`;

/** Every pair of endpoints on each destination's ports, evaluated: the whole matrix, for comparing two trees. */
export function sweep(spec: PlatformSpec, model: Model): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  const endpoints = model.endpoints.filter((e) => e.kind !== 'aws-api');
  for (const to of endpoints) {
    for (const port of candidatePorts(to, spec)) {
      for (const from of endpoints) {
        if (from !== to) out.set(flowKey(from, to, port), evaluate(model, from, to, port));
      }
    }
  }
  return out;
}
