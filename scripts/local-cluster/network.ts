// The local cluster's own network namespace. Everything of the cluster (control plane,
// containerd, kubelet, kube-proxy, the policy enforcer) runs inside it, so the rules kube-proxy and
// kube-router write land in its iptables, never the host's (index.ts adds a private mount
// namespace, so that the mounts of containerd and kubelet go with its last process). A veth pair
// joins it to the host: the node's address on the inside; on the outside the addresses that stand
// in for what lives outside the cluster in the spec's zones (the load balancer, the data tier,
// Vault, the internet), each routed to and from the inside, so a NetworkPolicy meets the
// addresses it names.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HarnessError } from '../local-stack/process';

const execFileAsync = promisify(execFile);

export interface ClusterNetworkPlan {
  /** Network namespace name (`ip netns`), also the prefix of the host's veth. */
  readonly namespace: string;
  /** The node's address (kubelet's InternalIP, the API server's advertise address). */
  readonly nodeIp: string;
  /** The pods' addresses (the bridge's host-local range; node.spec.podCIDR). */
  readonly podCidr: string;
  /** The Services' ClusterIP range. */
  readonly serviceCidr: string;
  /** Host-side addresses by role, each a /32 the inside reaches through the veth. */
  readonly outsideAddresses: Readonly<Record<string, string>>;
}

/** `ip ...` (or any command) as root; rejects with its stderr. */
export async function run(command: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const child = execFileAsync(command, [...args], { maxBuffer: 16 * 1024 * 1024, timeout: opts.timeoutMs ?? 60000 });
  if (opts.input !== undefined) child.child.stdin?.end(opts.input);
  try {
    return (await child).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new HarnessError(`${command} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}

/** A command run inside the namespace (network only), for set-up steps: sysctls, routes. */
export const inNamespace = (plan: ClusterNetworkPlan, command: string, args: readonly string[]) =>
  run('ip', ['netns', 'exec', plan.namespace, command, ...args]);

/** The host side of the veth: at most 15 characters (IFNAMSIZ). */
export const hostVeth = (plan: ClusterNetworkPlan) => `${plan.namespace.slice(0, 11)}-out`;
const INSIDE_VETH = 'eth0';

/** Fails with one line when the host cannot give the cluster its network. */
export async function checkNetworkPrerequisites(plan: ClusterNetworkPlan): Promise<void> {
  if (process.getuid?.() !== 0) throw new HarnessError('the local cluster needs root (network namespaces, mounts, cgroups)');
  const namespaces = await run('ip', ['netns', 'list']);
  if (namespaces.split('\n').some((line) => line.split(' ')[0] === plan.namespace)) {
    throw new HarnessError(`network namespace ${plan.namespace} exists already: another local cluster runs (npm run cluster:down stops it)`);
  }
  const addresses = await run('ip', ['-o', 'addr', 'show']);
  for (const [role, address] of Object.entries(plan.outsideAddresses)) {
    if (new RegExp(`inet ${address.replace(/\./g, '\\.')}/`).test(addresses)) {
      throw new HarnessError(`${address} (${role}) is already an address of this host: another local cluster runs, or the range collides`);
    }
  }
}

/**
 * Creates the namespace and the veth, addresses both ends and routes each side's addresses to
 * the other. Pods keep their own addresses on the way out (no masquerade), as in the VPC.
 */
export async function createClusterNetwork(plan: ClusterNetworkPlan): Promise<void> {
  const ns = plan.namespace;
  const outside = hostVeth(plan);
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', INSIDE_VETH, 'netns', ns]);
  await inNamespace(plan, 'ip', ['link', 'set', 'lo', 'up']);
  await inNamespace(plan, 'ip', ['addr', 'add', `${plan.nodeIp}/32`, 'dev', INSIDE_VETH]);
  await inNamespace(plan, 'ip', ['link', 'set', INSIDE_VETH, 'up']);
  await run('ip', ['link', 'set', outside, 'up']);
  for (const address of Object.values(plan.outsideAddresses)) {
    await run('ip', ['addr', 'add', `${address}/32`, 'dev', outside]);
    await inNamespace(plan, 'ip', ['route', 'add', `${address}/32`, 'dev', INSIDE_VETH]);
  }
  // Everything else the inside sends (the Service range before kube-proxy's DNAT, the internet)
  // leaves through the veth; the host answers only for its own addresses above.
  await inNamespace(plan, 'ip', ['route', 'add', 'default', 'dev', INSIDE_VETH]);
  await run('ip', ['route', 'add', `${plan.nodeIp}/32`, 'dev', outside]);
  for (const cidr of [plan.podCidr, plan.serviceCidr]) await run('ip', ['route', 'add', cidr, 'via', plan.nodeIp, 'dev', outside]);
  await inNamespace(plan, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  // Bridged pod-to-pod traffic must cross iptables: kube-proxy's DNAT and the policy enforcer's filter.
  await inNamespace(plan, 'sysctl', ['-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
}

/** Deletes the namespace (and with it the veth and every route through it). */
export async function deleteClusterNetwork(plan: Pick<ClusterNetworkPlan, 'namespace'>): Promise<void> {
  const namespaces = await run('ip', ['netns', 'list']);
  if (namespaces.split('\n').some((line) => line.split(' ')[0] === plan.namespace)) await run('ip', ['netns', 'delete', plan.namespace]);
}

/** PIDs of the processes in the namespace (`ip netns pids`). */
export async function namespacePids(namespace: string): Promise<number[]> {
  try {
    return (await run('ip', ['netns', 'pids', namespace])).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
