/**
 * Whether a flow (source endpoint -> destination endpoint, port) is open: every pair of their
 * placements is checked layer by layer, in the order a packet meets them. A flow is open when
 * every layer lets all of it through from every placement; "partly" when some addresses or some
 * subnets get through; closed otherwise, with the first layer that stopped it and its resource.
 */
import { ANY_IPV4 } from './addresses';
import type { Coverage } from './addresses';
import type { LayerResult } from './layers';
import {
  aclBetween, aclFromInternet, aclToInternet, groupsReferable, internetPath, networkPolicies, routeBetween, routeFromInternet,
  securityGroups, vpnAuthorization,
} from './layers';
import type { Model } from './model';
import type { Subnet } from './network';
import type { Endpoint, Placement, PortSpec } from './types';
import { portLabel } from './types';

export interface Verdict {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: PortSpec;
  /** all: open from every placement; some: from part of them (or part of their addresses); none: closed. */
  readonly coverage: Coverage;
  /** For a flow not fully open: the first layer that stops it, on the first pair it stops. */
  readonly blocked?: LayerResult & { readonly pair: string };
  /** How the flow goes when not direct (an AWS API through an endpoint or the NAT). */
  readonly via?: string;
}

type InVpc = Placement & { subnet: Subnet };
const inVpc = (p: Placement): p is InVpc => p.subnet !== undefined;

function weakestOf(layers: readonly LayerResult[]): Coverage {
  if (layers.some((l) => l.coverage === 'none')) return 'none';
  return layers.some((l) => l.coverage === 'some') ? 'some' : 'all';
}

const pairName = (from: Placement, to: Placement) =>
  `${from.subnet ? `${from.subnet.resource.path} (${from.cidr})` : from.cidr} -> ${to.subnet ? `${to.subnet.resource.path} (${to.cidr})` : to.cidr}`;

export function evaluate(model: Model, from: Endpoint, to: Endpoint, port: PortSpec): Verdict {
  if (to.listens && !to.listens.some((l) => l.port === port.port && l.protocol === port.protocol)) {
    return {
      from, to, port, coverage: 'none',
      blocked: { layer: 'listener', coverage: 'none', resource: to.label, detail: `does not listen on ${portLabel(port)} (listens on ${to.listens.map(portLabel).join(', ') || 'nothing'})`, pair: '-' },
    };
  }
  const pairs: Array<{ name: string; layers: LayerResult[]; via?: string }> = [];
  for (const source of from.placements) {
    if (to.kind === 'aws-api' && inVpc(source)) {
      pairs.push(...awsApiPairs(model, from, source, to, port));
      continue;
    }
    for (const target of to.placements) pairs.push({ name: pairName(source, target), layers: layersFor(model, from, source, to, target, port) });
  }
  const coverages = pairs.map((p) => weakestOf(p.layers));
  const cov: Coverage = coverages.length === 0 ? 'none' : coverages.every((c) => c === 'all') ? 'all' : coverages.every((c) => c === 'none') ? 'none' : 'some';
  const firstBlocked = pairs.find((p) => weakestOf(p.layers) !== 'all');
  const blockedLayer = firstBlocked?.layers.find((l) => l.coverage !== 'all');
  const vias = [...new Set(pairs.map((p) => p.via).filter(Boolean))];
  return {
    from, to, port, coverage: cov,
    ...(blockedLayer ? { blocked: { ...blockedLayer, pair: firstBlocked!.name } } : {}),
    ...(vias.length ? { via: vias.join('; ') } : {}),
    ...(pairs.length === 0 ? { blocked: { layer: 'route' as const, coverage: 'none' as const, resource: from.label, detail: 'has no placement in any network', pair: '-' } } : {}),
  };
}

/** An AWS API from a subnet: a gateway endpoint route, an interface endpoint in the VPC, or the internet. */
function awsApiPairs(model: Model, from: Endpoint, source: InVpc, api: Endpoint, port: PortSpec): Array<{ name: string; layers: LayerResult[]; via?: string }> {
  const gateway = source.subnet.routeTable.routes.find((r) => r.target.kind === 'gateway-endpoint' && r.destination.service === api.service);
  if (gateway && api.region === source.subnet.vpc.region) {
    return [{
      name: `${pairName(source, { cidr: ANY_IPV4 })}`, via: `gateway endpoint ${gateway.resource?.path}`,
      layers: [
        { layer: 'route', coverage: 'all', resource: source.subnet.routeTable.name, detail: `prefix-list route of ${gateway.resource?.path}` },
        securityGroups('security-group-egress', from.groups, { cidr: ANY_IPV4, groups: [] }, port, from),
        networkPolicies('network-policy-egress', model.networkPolicies, from, api, ANY_IPV4, port),
      ],
    }];
  }
  const endpoint = model.endpoints.find((e) => e.kind === 'vpc-endpoint' && e.role === `vpc-endpoint:${api.service}`
    && e.placements.some((p) => p.subnet?.vpc === source.subnet.vpc));
  if (endpoint && api.region === source.subnet.vpc.region) {
    return endpoint.placements.map((target) => ({
      name: pairName(source, target), via: `interface endpoint ${endpoint.resource?.path}`,
      layers: layersFor(model, from, source, endpoint, target, port),
    }));
  }
  return [{ name: pairName(source, { cidr: ANY_IPV4 }), via: 'the internet (public API endpoint)', layers: layersFor(model, from, source, api, { cidr: ANY_IPV4 }, port) }];
}

function layersFor(model: Model, from: Endpoint, source: Placement, to: Endpoint, target: Placement, port: PortSpec): LayerResult[] {
  const { network, networkPolicies: policies } = model;
  const layers: LayerResult[] = [];
  if (from.kind === 'client-vpn') layers.push(vpnAuthorization(from, target.cidr));

  if (!inVpc(source) && inVpc(target)) {
    // From the internet (CloudFront included) to something in a VPC.
    layers.push(routeFromInternet(to, target.subnet), aclFromInternet(target.subnet, port));
    layers.push(securityGroups('security-group-ingress', to.groups, { cidr: ANY_IPV4, groups: [], prefixList: from.prefixList }, port, to));
    layers.push(networkPolicies('network-policy-ingress', policies, to, from, ANY_IPV4, port));
  } else if (inVpc(source) && !inVpc(target)) {
    // To the internet (or a public AWS API) from a VPC.
    const path = internetPath(network, source.subnet, from);
    layers.push(path.result, aclToInternet(source, path.nat, port));
    layers.push(securityGroups('security-group-egress', from.groups, { cidr: ANY_IPV4, groups: [] }, port, from));
    layers.push(networkPolicies('network-policy-egress', policies, from, to, ANY_IPV4, port));
  } else if (inVpc(source) && inVpc(target)) {
    layers.push(routeBetween(network, source.subnet, target.subnet, source.cidr, target.cidr), aclBetween(source, target, port));
    const referable = groupsReferable(network, source.subnet, target.subnet);
    layers.push(securityGroups('security-group-egress', from.groups, { cidr: target.cidr, groups: referable ? to.groups : [] }, port, from));
    layers.push(securityGroups('security-group-ingress', to.groups, { cidr: source.cidr, groups: referable ? from.groups : [] }, port, to));
    layers.push(networkPolicies('network-policy-egress', policies, from, to, target.cidr, port));
    layers.push(networkPolicies('network-policy-ingress', policies, to, from, source.cidr, port));
  } else {
    layers.push({ layer: 'route', coverage: 'none', resource: from.label, detail: 'neither end is in a VPC' });
  }
  return layers;
}
