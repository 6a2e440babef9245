/**
 * The reachability model of one environment: every endpoint the synthesized output places in a
 * network (which subnets, which security groups, which ports), the network itself, the cluster's
 * NetworkPolicies, and the load balancers' targets. Built from cdk.out/ and dist/ only.
 */
import { ANY_IPV4 } from './addresses';
import { Cfn, CfnRef, loadAssembly } from './cfn';
import type { CfnResource, CfnStack } from './cfn';
import type { K8sObject } from './kubernetes';
import { readAppliedObjects, readDistObjects, referencedResource, selectorMatches } from './kubernetes';
import { Network, serviceShortName } from './network';
import type { SecurityGroup, Subnet } from './network';
import type { Endpoint, EndpointKind, LoadBalancerTarget, Placement, PodIdentity, PortSpec } from './types';
import { tcp } from './types';

/** A pod the charts do not render but name as a peer (kube-dns, Prometheus): it runs in the cluster. */
export interface AddOnPod {
  readonly namespace: string;
  readonly workload: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly PortSpec[];
}

export interface ModelInput {
  /** The cloud assembly directory (cdk.out). */
  readonly cdkOut: string;
  /** The rendered manifests (dist), holding <environment>/*.k8s.yaml. */
  readonly dist?: string;
  readonly environment: string;
  /** CloudFront's origin-facing managed prefix list per region: the CloudFront source. */
  readonly cloudFrontPrefixLists?: Readonly<Record<string, string>>;
  readonly addOnPods?: readonly AddOnPod[];
  /**
   * Lets tests change the synthesized output before the model is built: the templates, the
   * dist/ objects, and the objects the cluster stack applies (parsed from its templates).
   */
  readonly edit?: {
    readonly templates?: (stacks: CfnStack[]) => void;
    readonly manifests?: (objects: K8sObject[]) => void;
    readonly applied?: (objects: K8sObject[]) => void;
  };
}

export interface Model {
  readonly environment: string;
  readonly cfn: Cfn;
  readonly network: Network;
  readonly endpoints: readonly Endpoint[];
  readonly networkPolicies: readonly K8sObject[];
  readonly loadBalancerTargets: readonly LoadBalancerTarget[];
  readonly internet: Endpoint;
  /** An AWS service's regional API (public endpoint, gateway or interface endpoint decide the path). */
  awsApi(service: string, region: string): Endpoint;
  endpoint(id: string): Endpoint | undefined;
}

const shortPath = (resource: CfnResource) => resource.path.split('/').slice(1).join('/');

const DEFAULT_PORTS: Record<string, number> = { postgres: 5432, mysql: 3306, 'aurora-postgresql': 5432 };

export function buildModel(input: ModelInput): Model {
  const stacks = loadAssembly(input.cdkOut).filter((s) => s.environment === input.environment);
  if (stacks.length === 0) throw new Error(`${input.cdkOut} has no stack of environment "${input.environment}"`);
  const objects = readDistObjects(input.dist, input.environment);
  input.edit?.templates?.(stacks);
  input.edit?.manifests?.(objects);
  const cfn = new Cfn(stacks);
  const network = new Network(cfn);
  const applied = readAppliedObjects(cfn, objects);
  input.edit?.applied?.(applied);
  const builder = new EndpointBuilder(cfn, network);
  const endpoints: Endpoint[] = [];

  const internet: Endpoint = {
    id: 'internet', label: 'the internet', kind: 'internet', role: 'internet', region: 'global', zone: 'internet',
    placements: [{ cidr: ANY_IPV4 }], groups: [],
  };
  endpoints.push(internet);
  const primaryRegion = stacks[0]?.region;
  const prefixList = primaryRegion ? input.cloudFrontPrefixLists?.[primaryRegion] : undefined;
  if (prefixList) {
    endpoints.push({
      id: 'cloudfront', label: `CloudFront origin-facing servers (${prefixList})`, kind: 'cloudfront', role: 'cloudfront',
      region: 'global', zone: 'internet', placements: [{ cidr: ANY_IPV4 }], groups: [], prefixList,
    });
  }
  endpoints.push(...builder.awsEndpoints());

  // The cluster: its node groups carry the pods that have no security group of their own.
  const nodeGroups = endpoints.filter((e) => e.kind === 'node-group');
  const podPlacements = nodeGroups.flatMap((n) => n.placements);
  const nodeGroups0 = nodeGroups[0];
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const o of objects.filter((x) => x.kind === 'Namespace')) {
    namespaceLabels.set(o.metadata.name, { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name });
  }
  const labelsOf = (ns: string) => namespaceLabels.get(ns) ?? { 'kubernetes.io/metadata.name': ns };
  const policies = applied.filter((o) => o.kind === 'SecurityGroupPolicy');
  const pods: Endpoint[] = [];
  const addPod = (identity: PodIdentity, ports: readonly PortSpec[]) => {
    if (!nodeGroups0) return;
    const policy = policies.find((p) => p.metadata.namespace === identity.namespace && p.spec?.podSelector
      && selectorMatches(p.spec.podSelector, identity.labels));
    const groups = policy
      ? (policy.spec.securityGroups?.groupIds ?? []).flatMap((g: unknown) => (g instanceof CfnRef ? [network.group(g)] : []))
      : nodeGroups0.groups;
    pods.push({
      id: `k8s:${identity.namespace}/${identity.workload}`,
      label: `pods ${identity.namespace}/${identity.workload}`,
      kind: 'pod', role: `pod:${identity.workload}`, region: nodeGroups0.region,
      zone: identity.namespaceLabels['platform/zone'] ?? nodeGroups0.zone,
      placements: podPlacements, groups,
      groupsFrom: policy ? `SecurityGroupPolicy ${policy.metadata.namespace}/${policy.metadata.name}` : `node group ${nodeGroups0.label}`,
      listens: ports, pod: identity,
    });
  };
  for (const o of objects.filter((x) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(x.kind))) {
    const namespace = o.metadata.namespace ?? 'default';
    const template = o.spec?.template ?? {};
    const ports: PortSpec[] = (template.spec?.containers ?? []).flatMap((c: { ports?: { containerPort: number; protocol?: string; name?: string }[] }) =>
      (c.ports ?? []).map((p) => ({ protocol: (p.protocol ?? 'TCP').toLowerCase() as PortSpec['protocol'], port: p.containerPort, ...(p.name ? { name: p.name } : {}) })));
    addPod({ namespace, workload: o.metadata.name, labels: template.metadata?.labels ?? {}, namespaceLabels: labelsOf(namespace), source: 'charts' }, ports);
  }
  for (const addOn of input.addOnPods ?? []) {
    addPod({ namespace: addOn.namespace, workload: addOn.workload, labels: addOn.labels, namespaceLabels: labelsOf(addOn.namespace), source: 'add-on' }, addOn.ports);
  }
  endpoints.push(...pods);

  const loadBalancerTargets = builder.loadBalancerTargets(endpoints, applied, objects);
  const awsApis = new Map<string, Endpoint>();
  const byId = new Map(endpoints.map((e) => [e.id, e]));
  return {
    environment: input.environment,
    cfn,
    network,
    endpoints,
    networkPolicies: objects.filter((o) => o.kind === 'NetworkPolicy'),
    loadBalancerTargets,
    internet,
    endpoint: (id) => byId.get(id),
    awsApi(service, region) {
      const id = `aws-api:${service}@${region}`;
      let api = awsApis.get(id);
      if (!api) {
        api = { id, label: `${service} API (${region})`, kind: 'aws-api', role: id, region, zone: 'internet', placements: [{ cidr: ANY_IPV4 }], groups: [], service };
        awsApis.set(id, api);
      }
      return api;
    },
  };
}

/** Reads the endpoints of the AWS resources the templates define. */
class EndpointBuilder {
  constructor(private readonly cfn: Cfn, private readonly network: Network) {}

  private endpoint(resource: CfnResource, kind: EndpointKind, subnets: readonly Subnet[], groups: readonly SecurityGroup[], extra: Partial<Endpoint> = {}): Endpoint | undefined {
    if (subnets.length === 0) return undefined;
    const placements: Placement[] = subnets.map((subnet) => ({ subnet, cidr: subnet.cidr }));
    return {
      id: resource.path,
      label: `${kind.replace(/-/g, ' ')} ${shortPath(resource)}`,
      kind,
      role: kind,
      region: resource.stack.region,
      zone: subnets[0]!.group ?? 'unknown',
      placements,
      groups,
      resource,
      ...extra,
    };
  }

  /** A launch template's groups: SecurityGroupIds, or its network interfaces' Groups. */
  private launchTemplateGroups(template: CfnResource): SecurityGroup[] {
    const { cfn, network } = this;
    const groups = network.groupsOf(template, 'LaunchTemplateData', 'SecurityGroupIds');
    const nics = cfn.prop(template, 'LaunchTemplateData', 'NetworkInterfaces');
    if (Array.isArray(nics)) nics.forEach((_, i) => groups.push(...network.groupsOf(template, 'LaunchTemplateData', 'NetworkInterfaces', i, 'Groups')));
    return groups;
  }

  awsEndpoints(): Endpoint[] {
    const { cfn, network } = this;
    const out: (Endpoint | undefined)[] = [];
    const subnetsAt = (r: CfnResource, ...path: string[]) => network.subnetsOf(cfn.refsOf(r, ...path));

    for (const r of cfn.resourcesOfType('AWS::ElasticLoadBalancingV2::LoadBalancer')) {
      const scheme = cfn.literal(r, 'Scheme') ?? 'internet-facing';
      const listens = cfn.resourcesOfType('AWS::ElasticLoadBalancingV2::Listener')
        .filter((l) => cfn.refOf(l.stack, l.properties.LoadBalancerArn) === r)
        .map((l) => ({ protocol: cfn.literal(l, 'Protocol') === 'UDP' ? 'udp' as const : 'tcp' as const, port: Number(cfn.literal(l, 'Port')) }));
      out.push(this.endpoint(r, 'load-balancer', subnetsAt(r, 'Subnets'), network.groupsOf(r, 'SecurityGroups'), {
        listens, internetFacing: scheme === 'internet-facing',
        label: `${cfn.literal(r, 'Type') === 'network' ? 'NLB' : 'ALB'} ${shortPath(r)}`,
      }));
    }
    for (const r of cfn.resourcesOfType('AWS::EC2::ClientVpnEndpoint')) {
      const subnets = network.subnetsOf(cfn.resourcesOfType('AWS::EC2::ClientVpnTargetNetworkAssociation')
        .filter((a) => cfn.refOf(a.stack, a.properties.ClientVpnEndpointId) === r)
        .flatMap((a) => cfn.refsOf(a, 'SubnetId')));
      const authorized = cfn.resourcesOfType('AWS::EC2::ClientVpnAuthorizationRule')
        .filter((a) => cfn.refOf(a.stack, a.properties.ClientVpnEndpointId) === r)
        .map((a) => cfn.literal(a, 'TargetNetworkCidr')).filter((c): c is string => Boolean(c));
      out.push(this.endpoint(r, 'client-vpn', subnets, network.groupsOf(r, 'SecurityGroupIds'), {
        zone: 'vpn', listens: [], vpnAuthorizedCidrs: authorized, label: `Client VPN clients (${shortPath(r)}, ${cfn.literal(r, 'ClientCidrBlock')})`,
      }));
    }
    for (const r of cfn.resourcesOfType('AWS::EC2::Instance')) {
      const nics = cfn.prop(r, 'NetworkInterfaces');
      const subnets = subnetsAt(r, 'SubnetId');
      const groups = network.groupsOf(r, 'SecurityGroupIds');
      if (Array.isArray(nics)) nics.forEach((_, i) => { subnets.push(...subnetsAt(r, 'NetworkInterfaces', String(i), 'SubnetId')); groups.push(...network.groupsOf(r, 'NetworkInterfaces', i, 'GroupSet')); });
      const publicIp = Array.isArray(nics) && nics.some((_, i) => cfn.prop(r, 'NetworkInterfaces', i, 'AssociatePublicIpAddress') === true);
      out.push(this.endpoint(r, 'instance', subnets, groups, { internetFacing: publicIp }));
    }
    for (const r of cfn.resourcesOfType('AWS::AutoScaling::AutoScalingGroup')) {
      const template = cfn.refOf(r.stack, (r.properties.LaunchTemplate as Record<string, unknown> | undefined)?.LaunchTemplateId);
      out.push(this.endpoint(r, 'auto-scaling-group', subnetsAt(r, 'VPCZoneIdentifier'), template ? this.launchTemplateGroups(template) : []));
    }
    for (const r of cfn.resourcesOfType('AWS::EKS::Cluster')) {
      const clusterGroup = network.groups.get(`${r.key}#ClusterSecurityGroupId`);
      out.push(this.endpoint(r, 'cluster-api', subnetsAt(r, 'ResourcesVpcConfig', 'SubnetIds'),
        [...network.groupsOf(r, 'ResourcesVpcConfig', 'SecurityGroupIds'), ...(clusterGroup ? [clusterGroup] : [])],
        { listens: [tcp(443)], label: `EKS API ${shortPath(r)}`, groupsFrom: 'the control plane\'s network interfaces (our group + the EKS cluster group)' }));
    }
    for (const r of cfn.resourcesOfType('AWS::EKS::Nodegroup')) {
      const template = cfn.refOf(r.stack, (r.properties.LaunchTemplate as Record<string, unknown> | undefined)?.Id);
      let groups = template ? this.launchTemplateGroups(template) : [];
      const cluster = cfn.refOf(r.stack, r.properties.ClusterName);
      if (groups.length === 0 && cluster) groups = [network.groups.get(`${cluster.key}#ClusterSecurityGroupId`)!].filter(Boolean);
      out.push(this.endpoint(r, 'node-group', subnetsAt(r, 'Subnets'), groups, { listens: [tcp(10250, 'kubelet')] }));
    }
    for (const r of cfn.resourcesOfType('AWS::RDS::DBInstance')) {
      const subnetGroup = cfn.refOf(r.stack, r.properties.DBSubnetGroupName);
      let subnets = subnetGroup ? subnetsAt(subnetGroup, 'SubnetIds') : [];
      const az = cfn.literal(r, 'AvailabilityZone');
      if (az) subnets = subnets.filter((s) => s.availabilityZone === az);
      const replica = r.properties.SourceDBInstanceIdentifier !== undefined;
      const port = Number(cfn.literal(r, 'Port') ?? DEFAULT_PORTS[cfn.literal(r, 'Engine') ?? 'postgres'] ?? 5432);
      out.push(this.endpoint(r, 'database', subnets, network.groupsOf(r, 'VPCSecurityGroups'), {
        role: replica ? 'database-replica' : 'database-writer', listens: [tcp(port)], internetFacing: cfn.prop(r, 'PubliclyAccessible') === true,
        label: `RDS ${replica ? 'read replica' : 'writer'} ${shortPath(r)}`,
      }));
    }
    for (const r of cfn.resourcesOfType('AWS::ElastiCache::ReplicationGroup')) {
      const subnetGroup = cfn.refOf(r.stack, r.properties.CacheSubnetGroupName);
      out.push(this.endpoint(r, 'cache', subnetGroup ? subnetsAt(subnetGroup, 'SubnetIds') : [], network.groupsOf(r, 'SecurityGroupIds'), {
        listens: [tcp(Number(cfn.literal(r, 'Port') ?? 6379))], label: `ElastiCache ${shortPath(r)}`,
      }));
    }
    for (const r of cfn.resourcesOfType('AWS::MSK::Cluster')) {
      const auth = (...path: string[]) => cfn.prop(r, 'ClientAuthentication', ...path, 'Enabled') === true;
      const listens = [
        ...(auth('Tls') ? [tcp(9094, 'tls')] : []),
        ...(auth('Sasl', 'Scram') ? [tcp(9096, 'sasl-scram')] : []),
        ...(auth('Sasl', 'Iam') ? [tcp(9098, 'sasl-iam')] : []),
        ...(auth('Unauthenticated') ? [tcp(9094, 'tls')] : []),
      ];
      out.push(this.endpoint(r, 'kafka', subnetsAt(r, 'BrokerNodeGroupInfo', 'ClientSubnets'), network.groupsOf(r, 'BrokerNodeGroupInfo', 'SecurityGroups'), {
        listens, label: `MSK brokers ${shortPath(r)}`,
      }));
    }
    for (const r of cfn.resourcesOfType('AWS::RedshiftServerless::Workgroup')) {
      out.push(this.endpoint(r, 'warehouse', subnetsAt(r, 'SubnetIds'), network.groupsOf(r, 'SecurityGroupIds'), {
        listens: [tcp(Number(cfn.literal(r, 'Port') ?? 5439))], internetFacing: cfn.prop(r, 'PubliclyAccessible') === true,
        label: `Redshift Serverless ${shortPath(r)}`,
      }));
    }
    for (const r of cfn.resourcesOfType('AWS::KinesisAnalyticsV2::Application')) {
      const configs = cfn.prop(r, 'ApplicationConfiguration', 'VpcConfigurations');
      if (!Array.isArray(configs)) continue;
      configs.forEach((_, i) => out.push(this.endpoint(r, 'flink', subnetsAt(r, 'ApplicationConfiguration', 'VpcConfigurations', String(i), 'SubnetIds'),
        network.groupsOf(r, 'ApplicationConfiguration', 'VpcConfigurations', i, 'SecurityGroupIds'), { listens: [], label: `Managed Flink ${shortPath(r)}` })));
    }
    for (const r of cfn.resourcesOfType('AWS::Lambda::Function')) {
      out.push(this.endpoint(r, 'lambda', subnetsAt(r, 'VpcConfig', 'SubnetIds'), network.groupsOf(r, 'VpcConfig', 'SecurityGroupIds'), {
        listens: [], label: `Lambda ${shortPath(r)}`,
      }));
    }
    for (const r of cfn.resourcesOfType('AWS::EC2::VPCEndpoint')) {
      if ((cfn.literal(r, 'VpcEndpointType') ?? 'Gateway') !== 'Interface') continue;
      const service = serviceShortName(cfn.literal(r, 'ServiceName') ?? '');
      out.push(this.endpoint(r, 'vpc-endpoint', subnetsAt(r, 'SubnetIds'), network.groupsOf(r, 'SecurityGroupIds'), {
        service, listens: [tcp(443)], label: `VPC endpoint ${service} (${r.stack.region})`,
        role: cfn.prop(r, 'PrivateDnsEnabled') === true ? `vpc-endpoint:${service}` : 'vpc-endpoint',
      }));
    }
    for (const nat of network.natGateways) {
      out.push(this.endpoint(nat.resource, 'nat-gateway', [nat.subnet], [], { listens: [], internetFacing: true, label: `NAT gateway ${shortPath(nat.resource)}` }));
    }
    return out.filter((e): e is Endpoint => e !== undefined);
  }

  /** Load balancers' targets: target groups of their listeners, filled by ASGs or TargetGroupBindings. */
  loadBalancerTargets(endpoints: readonly Endpoint[], applied: readonly K8sObject[], objects: readonly K8sObject[]): LoadBalancerTarget[] {
    const { cfn } = this;
    const out: LoadBalancerTarget[] = [];
    const byResource = new Map(endpoints.filter((e) => e.resource).map((e) => [e.resource!.key, e]));
    /** Target groups an action list forwards to (TargetGroupArn, or ForwardConfig's weighted list). */
    const forwardedTo = (owner: CfnResource, key: string): CfnResource[] => {
      const actions = owner.properties[key];
      if (!Array.isArray(actions)) return [];
      return actions.flatMap((action: Record<string, any>) => [ // eslint-disable-line @typescript-eslint/no-explicit-any -- raw template JSON
        cfn.refOf(owner.stack, action?.TargetGroupArn),
        ...((action?.ForwardConfig?.TargetGroups ?? []) as Record<string, unknown>[]).map((t) => cfn.refOf(owner.stack, t.TargetGroupArn)),
      ]).filter((r): r is CfnResource => r !== undefined);
    };
    const groupsOf = (listener: CfnResource): CfnResource[] => [
      ...forwardedTo(listener, 'DefaultActions'),
      ...cfn.resourcesOfType('AWS::ElasticLoadBalancingV2::ListenerRule')
        .filter((rule) => cfn.refOf(rule.stack, rule.properties.ListenerArn) === listener)
        .flatMap((rule) => forwardedTo(rule, 'Actions')),
    ];
    for (const listener of cfn.resourcesOfType('AWS::ElasticLoadBalancingV2::Listener')) {
      const lb = byResource.get(cfn.refOf(listener.stack, listener.properties.LoadBalancerArn)?.key ?? '');
      if (!lb) continue;
      for (const group of groupsOf(listener)) {
        const port = Number(cfn.literal(group, 'Port'));
        const health = cfn.literal(group, 'HealthCheckPort');
        const ports = [tcp(port), ...(health && health !== 'traffic-port' && Number(health) !== port ? [tcp(Number(health))] : [])];
        for (const asg of cfn.resourcesOfType('AWS::AutoScaling::AutoScalingGroup')) {
          if (!cfn.refsOf(asg, 'TargetGroupARNs').includes(group)) continue;
          const target = byResource.get(asg.key);
          if (target) out.push({ loadBalancer: lb, target, ports });
        }
        for (const binding of applied.filter((o) => o.kind === 'TargetGroupBinding')) {
          if (referencedResource(binding.spec?.targetGroupARN) !== group) continue;
          const namespace = binding.metadata.namespace ?? 'default';
          const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === binding.spec?.serviceRef?.name && (o.metadata.namespace ?? 'default') === namespace);
          for (const pod of endpoints.filter((e) => e.pod?.namespace === namespace && service && selectorMatches({ matchLabels: service.spec?.selector }, e.pod.labels))) {
            out.push({ loadBalancer: lb, target: pod, ports });
          }
        }
      }
    }
    const seen = new Set<string>();
    return out.filter((t) => {
      const key = `${t.loadBalancer.id} ${t.target.id} ${t.ports.map((p) => p.port).join(',')}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
}
