// A real single-node Kubernetes on this machine, for the tests and for exploration
// (`npm run cluster:up`): etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet on
// containerd and runc, kube-proxy, kube-router enforcing NetworkPolicies, and CoreDNS as a pod,
// all inside a network and mount namespace of their own (network.ts). Binaries come from
// scripts/setup/kube.sh and scripts/setup/cluster.sh; images are built locally (images.ts).
// Every process is a ManagedProcess (own process group, log file in the cluster's dir); dispose()
// stops kubelet, kills the pods by their cgroups, stops the rest in reverse order, kills what is
// left in the namespace, and removes the namespace, the cgroups and the dir: nothing is left behind.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { createTestCa } from '../local-stack/ca';
import {
  HarnessError, ManagedProcess, cacheDir, disposeOnce, installed, processAlive, setUpInTempDir, sleep, tailFile, waitReady,
} from '../local-stack/process';
import type { TestCa } from '../local-stack/types';
import { createCgroupRoot, isCgroupV1, removeCgroupRoot } from './cgroups';
import {
  CLUSTER_DOMAIN, NODE_NAME, PORTS, apiServiceIp, cniConfig, containerdConfig, coreDnsManifests, kubeProxyConfig, kubeconfigFor, kubeletConfig,
} from './components';
import { buildImages, installFile, nodeBaseRecipe } from './images';
import type { ImageRecipe } from './images';
import { checkNetworkPrerequisites, createClusterNetwork, deleteClusterNetwork, namespacePids } from './network';
import type { ClusterNetworkPlan } from './network';

const execFileAsync = promisify(execFile);
const KUBE_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'] as const;
const CLUSTER_BINARIES = ['coredns', 'kube-router', 'pause'] as const;
/** Budget for one component to come up on a loaded 2-core machine. */
const READY_TIMEOUT_MS = 180000;
/** The service-account issuer, as in a real cluster. */
const SERVICE_ACCOUNT_ISSUER = `https://kubernetes.default.svc.${CLUSTER_DOMAIN}`;
const PAUSE_IMAGE = 'localhost/local-cluster/pause:1';
const COREDNS_IMAGE = 'localhost/local-cluster/coredns:1';
/** kube-controller-manager's downscale stabilization window for HPAs without behavior (EKS: the default, 300 s). */
export const HPA_DOWNSCALE_STABILIZATION_S = 20;

/**
 * Kernel settings kubelet writes at start (its "kernel defaults"). They are the machine's, not
 * the namespace's: read before, written back at the end.
 */
const KERNEL_TUNABLES = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'];

/** Host paths the node's components write to regardless of their configuration; hidden by a tmpfs in the cluster's mount namespace. */
const HOST_PATHS_HIDDEN = ['/run/containerd', '/var/lib/cni'];

/** Where the running cluster's owner records itself, so that cluster:down can clean up after a crash. */
export const STATE_FILE = '/run/platform-local-cluster.json';
interface ClusterState {
  readonly pid: number;
  readonly dir: string;
  readonly namespace: string;
  readonly cgroupRoot: string;
  kernelTunables: Record<string, string>;
  /** Mount points this cluster had to create on the host (removed at the end). */
  readonly createdPaths: string[];
}

export interface LocalClusterOptions {
  readonly network: ClusterNetworkPlan;
  /** The node's topology.kubernetes.io/zone label: the environment's availability zone. */
  readonly zone: string;
  /** Names CoreDNS answers for stand-ins outside the cluster (its `hosts` block). */
  readonly dnsHosts?: Readonly<Record<string, string>>;
  /**
   * `localhost:<port>`: a registry beside the node (CNCF distribution, built by
   * scripts/setup/flux.sh) that the node pulls from, as the charts' `imageRegistry` says.
   */
  readonly registry?: string;
  /**
   * Public registries (e.g. `docker.io`, `quay.io`) that the registry beside the node stands in
   * for: containerd pulls their images from it, and pushImages takes images named after them.
   * Their repository paths share the one registry, so two mirrors must not name the same path.
   */
  readonly mirrors?: readonly string[];
}

export interface LocalCluster {
  readonly dir: string;
  readonly network: ClusterNetworkPlan;
  /** `https://<node ip>:6443`. */
  readonly url: string;
  readonly ca: TestCa;
  /** A cluster admin's kubeconfig (system:masters). */
  readonly kubeconfig: string;
  readonly containerdSocket: string;
  /** Environment for kubectl and scripts calling it: KUBECONFIG, PATH with this kubectl first. */
  env(): NodeJS.ProcessEnv;
  /** kubectl as the admin; resolves with stdout, rejects with stderr. */
  kubectl(args: readonly string[], input?: string, timeoutMs?: number): Promise<string>;
  /** Server-side apply of objects (a list, YAML/JSON text). */
  apply(objects: readonly object[] | string): Promise<string>;
  /** Builds the images and imports them into the node's containerd. */
  importImages(recipes: readonly ImageRecipe[]): Promise<void>;
  /** Builds the images and pushes them to the registry beside the node (their names start with it or a mirror). */
  pushImages(recipes: readonly ImageRecipe[]): Promise<void>;
  /** `<node ip>:<port>`: the registry beside the node as this machine reaches it (plain HTTP); undefined without one. */
  readonly registryAddress?: string;
  /** Log files of the cluster's processes, by name. */
  readonly logFiles: Readonly<Record<string, string>>;
  /**
   * The machine-wide kernel tunables kubelet sets at start, as they were once this cluster held the
   * machine (the cluster before it had restored them): dispose() writes these back.
   */
  readonly hostKernelTunables: Readonly<Record<string, string>>;
  dispose(): Promise<void>;
}

function findBinaries(): { kubeBin: string; clusterBin: string } {
  const kubeBin = cacheDir('kube', 'bin');
  const clusterBin = cacheDir('cluster', 'bin');
  for (const [dir, names, script] of [[kubeBin, KUBE_BINARIES, 'kube.sh'], [clusterBin, CLUSTER_BINARIES, 'cluster.sh']] as const) {
    for (const name of names) {
      installed(join(dir, name), { script });
    }
  }
  for (const tool of ['containerd', 'runc', 'ctr', 'umoci', 'skopeo', 'iptables', 'ipset', 'nsenter', 'unshare']) {
    if (!process.env.PATH?.split(delimiter).some((p) => existsSync(join(p, tool))) && !existsSync(`/usr/sbin/${tool}`) && !existsSync(`/usr/bin/${tool}`)) {
      throw new HarnessError(`missing: ${tool}; install it with \`npm run setup\` (scripts/setup/cluster.sh)`);
    }
  }
  return { kubeBin, clusterBin };
}

/** The registry binary scripts/setup/flux.sh builds (the Flux tests' OCI registry). */
function findRegistryBinary(): string {
  return installed(cacheDir('flux', 'bin', 'registry'), { script: 'flux.sh' });
}

/** The port of `localhost:<port>`; the node's registry must be on localhost, where containerd may use plain HTTP. */
function registryPortOf(registry: string): number {
  const match = /^localhost:(\d{1,5})$/.exec(registry);
  if (!match) throw new HarnessError(`registry ${JSON.stringify(registry)}: the local cluster serves its registry as localhost:<port>`);
  return Number(match[1]);
}

function readKernelTunables(): Record<string, string> {
  return Object.fromEntries(KERNEL_TUNABLES.filter((k) => existsSync(`/proc/sys/${k}`)).map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]));
}

function restoreKernelTunables(values: Record<string, string>): void {
  for (const [key, value] of Object.entries(values)) {
    try {
      if (readFileSync(`/proc/sys/${key}`, 'utf8').trim() !== value) writeFileSync(`/proc/sys/${key}`, value);
    } catch {
      // best effort: a tunable this kernel does not let us write was not written by kubelet either
    }
  }
}

/** Removes what a cluster whose owner died left behind (its state file names it); false if none. */
export async function cleanUpStaleCluster(): Promise<boolean> {
  if (!existsSync(STATE_FILE)) return false;
  const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ClusterState;
  if (state.pid !== process.pid && processAlive(state.pid)) {
    throw new HarnessError(`a local cluster runs already (pid ${state.pid}, ${state.dir}); stop it first (Ctrl-C, or npm run cluster:down)`);
  }
  await tearDown(state, []);
  return true;
}

async function tearDown(state: ClusterState, processes: readonly ManagedProcess[]): Promise<void> {
  // kubelet first, so that nothing restarts the pods; then the pods, which are in neither our process
  // groups nor the namespace (a pod still watching the API server would hold its shutdown open);
  // then the rest in reverse order of start.
  const kubelet = processes.find((p) => p.opts.name === 'kubelet');
  await kubelet?.stop('SIGTERM', 15000);
  await removeCgroupRoot(state.cgroupRoot);
  for (const proc of [...processes].reverse()) await proc.stop('SIGTERM', 15000);
  // Whatever still runs in the namespace (containerd's shims), then what is left of the cgroups.
  for (const pid of await namespacePids(state.namespace)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (let i = 0; i < 50 && (await namespacePids(state.namespace)).length > 0; i++) await sleep(100);
  await removeCgroupRoot(state.cgroupRoot);
  await deleteClusterNetwork(state);
  restoreKernelTunables(state.kernelTunables);
  for (const path of [...(state.createdPaths ?? [])].reverse()) await execFileAsync('rmdir', [path]).catch(() => undefined);
  await execFileAsync('rm', ['-rf', state.dir]);
  if (existsSync(STATE_FILE) && (JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ClusterState).dir === state.dir) {
    await execFileAsync('rm', ['-f', STATE_FILE]);
  }
}

/** The state file's cluster, or undefined when there is none or it is being written. */
function readState(): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

/**
 * Claims the machine for one cluster by creating the state file (exclusively, so two starting
 * clusters cannot both win): one cluster runs on a machine at a time (fixed addresses and
 * namespace). A cluster whose owner died, or this process's own, is removed first; one whose owner
 * lives fails the start.
 */
async function claimMachine(state: ClusterState): Promise<void> {
  for (;;) {
    try {
      writeFileSync(STATE_FILE, JSON.stringify(state), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const other = readState();
    if (other && (other.pid === process.pid || !processAlive(other.pid))) {
      await tearDown(other, []);
      continue;
    }
    throw new HarnessError(`a local cluster runs already (${other ? `pid ${other.pid}, ${other.dir}` : STATE_FILE}); stop it first (Ctrl-C, or npm run cluster:down)`);
  }
}

export async function startLocalCluster(opts: LocalClusterOptions): Promise<LocalCluster> {
  const { kubeBin, clusterBin } = findBinaries();
  const plan = opts.network;
  return setUpInTempDir('cluster', async (dir) => {
    const processes: ManagedProcess[] = [];
    const state: ClusterState = { pid: process.pid, dir, namespace: plan.namespace, cgroupRoot: plan.namespace, kernelTunables: readKernelTunables(), createdPaths: [] };
    await claimMachine(state);
    // Read after the claim: the cluster before this one restored them.
    state.kernelTunables = readKernelTunables();
    writeFileSync(STATE_FILE, JSON.stringify(state));
    try {
      await checkNetworkPrerequisites(plan);
      return await setUp(dir, plan, opts, processes, state, kubeBin, clusterBin);
    } catch (error) {
      const logs = processes.map((p) => `--- ${p.opts.name} (${p.opts.logFile}):\n${tailFile(p.opts.logFile, 15)}`).join('\n');
      await tearDown(state, processes).catch(() => undefined);
      if (error instanceof HarnessError && !error.message.includes('last lines')) error.message += `\n${logs}`;
      throw error;
    }
  });
}

async function setUp(dir: string, plan: ClusterNetworkPlan, opts: LocalClusterOptions, processes: ManagedProcess[], state: ClusterState,
  kubeBin: string, clusterBin: string): Promise<LocalCluster> {
  await createClusterNetwork(plan);
  const logFiles: Record<string, string> = {};
  /** A process inside the cluster's namespaces (the holder's mount namespace once it exists). */
  const namespaces: { mount?: string } = {};
  const start = (name: string, command: string, args: readonly string[]) => {
    const logFile = join(dir, 'logs', `${name}.log`);
    logFiles[name] = logFile;
    const proc = new ManagedProcess({
      name,
      command: 'nsenter',
      args: [`--net=/run/netns/${plan.namespace}`, ...(namespaces.mount ? [`--mount=${namespaces.mount}`] : []), `--wd=${dir}`, '--', command, ...args],
      cwd: dir,
      logFile,
      orphanDir: dir,
      env: { ...process.env, PATH: [kubeBin, clusterBin, '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(delimiter) },
    });
    proc.start();
    processes.push(proc);
    return proc;
  };
  await mkdir(join(dir, 'logs'), { recursive: true });

  // The mount namespace: held by pause, mounts made inside stay inside.
  const holder = start('namespace-holder', 'unshare', ['--mount', '--propagation', 'slave', join(clusterBin, 'pause')]);
  const ownMountNs = readlinkSync('/proc/self/ns/mnt');
  await waitReady(holder, async () => existsSync(`/proc/${holder.pid}/ns/mnt`) && readlinkSync(`/proc/${holder.pid}/ns/mnt`) !== ownMountNs, {
    timeoutMs: 30000, intervalMs: 20, what: 'its own mount namespace',
  });
  namespaces.mount = `/proc/${holder.pid}/ns/mnt`;
  // Paths containerd, its shims and the CNI plugins write to whatever their configuration says (the
  // shims' sockets and runc's state, the CNI result cache): a tmpfs over each, inside the namespace only.
  for (const path of HOST_PATHS_HIDDEN) {
    if (!existsSync(path)) {
      await mkdir(path, { recursive: true });
      state.createdPaths.push(path);
      writeFileSync(STATE_FILE, JSON.stringify(state));
    }
    await execFileAsync('nsenter', [`--mount=${namespaces.mount}`, '--', 'mount', '-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs', path]);
  }

  // --- identities --------------------------------------------------------------------------------
  const ca = await createTestCa({ dir: join(dir, 'ca'), commonName: 'local cluster CA' });
  const etcdCert = await ca.issue({ commonName: 'etcd', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const apiCert = await ca.issue({
    commonName: 'kube-apiserver',
    dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${CLUSTER_DOMAIN}`, 'localhost'],
    ipAddresses: ['127.0.0.1', plan.nodeIp, apiServiceIp(plan)],
  });
  const kubeletClient = await ca.issue({ commonName: 'kube-apiserver-kubelet-client' });
  const frontProxy = await ca.issue({ commonName: 'front-proxy-client' });
  const kubeletServing = await ca.issue({ commonName: `system:node:${NODE_NAME}`, dnsNames: [NODE_NAME], ipAddresses: [plan.nodeIp] });
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  await writeFile(saKey, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  await writeFile(saPub, keys.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const token = () => randomBytes(24).toString('base64url');
  const identities = {
    admin: { user: 'local-admin', groups: ['system:masters'], token: token() },
    kubelet: { user: `system:node:${NODE_NAME}`, groups: ['system:nodes'], token: token() },
    proxy: { user: 'system:kube-proxy', groups: [], token: token() },
    scheduler: { user: 'system:kube-scheduler', groups: [], token: token() },
    controllerManager: { user: 'system:kube-controller-manager', groups: [], token: token() },
  };
  await writeFile(join(dir, 'tokens.csv'), Object.values(identities)
    .map((id) => `${id.token},${id.user},${id.user}${id.groups.length ? `,"${id.groups.join(',')}"` : ''}`).join('\n') + '\n', { mode: 0o600 });
  const url = `https://${plan.nodeIp}:${PORTS.apiServer}`;
  const kubeconfigs = Object.fromEntries(await Promise.all(Object.entries(identities).map(async ([name, id]) => {
    const file = join(dir, `${name}.kubeconfig`);
    await writeFile(file, kubeconfigFor(url, ca.caFile, id.user, id.token), { mode: 0o600 });
    return [name, file] as const;
  }))) as Record<keyof typeof identities, string>;

  // --- control plane -----------------------------------------------------------------------------
  start('etcd', join(kubeBin, 'etcd'), [
    '--name=local', `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=https://127.0.0.1:${PORTS.etcdClient}`, `--advertise-client-urls=https://127.0.0.1:${PORTS.etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${PORTS.etcdPeer}`,
    `--initial-cluster=local=http://127.0.0.1:${PORTS.etcdPeer}`,
    `--cert-file=${etcdCert.certFile}`, `--key-file=${etcdCert.keyFile}`, `--trusted-ca-file=${ca.caFile}`, '--client-cert-auth',
    '--unsafe-no-fsync', '--log-level=warn',
  ]);
  const apiserver = start('kube-apiserver', join(kubeBin, 'kube-apiserver'), [
    `--etcd-servers=https://127.0.0.1:${PORTS.etcdClient}`,
    `--etcd-cafile=${ca.caFile}`, `--etcd-certfile=${etcdCert.certFile}`, `--etcd-keyfile=${etcdCert.keyFile}`,
    '--bind-address=0.0.0.0', `--advertise-address=${plan.nodeIp}`, `--secure-port=${PORTS.apiServer}`,
    `--tls-cert-file=${apiCert.certFile}`, `--tls-private-key-file=${apiCert.keyFile}`, `--cert-dir=${join(dir, 'apiserver-certs')}`,
    `--client-ca-file=${ca.caFile}`, `--token-auth-file=${join(dir, 'tokens.csv')}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`, `--service-account-key-file=${saPub}`, `--service-account-signing-key-file=${saKey}`,
    '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction',
    `--service-cluster-ip-range=${plan.serviceCidr}`,
    `--kubelet-client-certificate=${kubeletClient.certFile}`, `--kubelet-client-key=${kubeletClient.keyFile}`,
    `--kubelet-certificate-authority=${ca.caFile}`, '--kubelet-preferred-address-types=InternalIP,Hostname',
    // The aggregation layer (metrics-server's API): the front proxy's client certificate and CA.
    `--requestheader-client-ca-file=${ca.caFile}`, '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User', '--requestheader-group-headers=X-Remote-Group', '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${frontProxy.certFile}`, `--proxy-client-key-file=${frontProxy.keyFile}`,
    '--profiling=false',
  ]);
  const kubectl = async (args: readonly string[], input?: string, timeoutMs = 120000): Promise<string> => {
    const child = execFileAsync(join(kubeBin, 'kubectl'), [...args], { env: { ...process.env, KUBECONFIG: kubeconfigs.admin }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs });
    if (input !== undefined) child.child.stdin?.end(input);
    try {
      return (await child).stdout;
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new HarnessError(`kubectl ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
    }
  };
  await waitReady(apiserver, async () => (await kubectl(['get', '--raw', '/readyz'], undefined, 10000)).trim() === 'ok', {
    timeoutMs: READY_TIMEOUT_MS, intervalMs: 500, what: `${url}/readyz`,
  });
  const [podCidrBase, podCidrMask] = plan.podCidr.split('/') as [string, string];
  start('kube-controller-manager', join(kubeBin, 'kube-controller-manager'), [
    `--kubeconfig=${kubeconfigs.controllerManager}`, `--authentication-kubeconfig=${kubeconfigs.controllerManager}`, `--authorization-kubeconfig=${kubeconfigs.controllerManager}`,
    '--use-service-account-credentials=true', `--service-account-private-key-file=${saKey}`, `--root-ca-file=${ca.caFile}`,
    `--cluster-signing-cert-file=${ca.caFile}`, `--cluster-signing-key-file=${join(dir, 'ca', 'ca.key')}`,
    '--allocate-node-cidrs=true', `--cluster-cidr=${podCidrBase}/${podCidrMask}`, `--node-cidr-mask-size=${podCidrMask}`,
    `--service-cluster-ip-range=${plan.serviceCidr}`, '--leader-elect=false', '--bind-address=127.0.0.1',
    // HPA reads metrics-server every 5 s (the default is 15 s; metrics-server's own resolution
    // is 15 s). Scale-down follows the highest recommendation of the last 20 s, not of the
    // default five minutes: the charts' HPAs set no behavior, and a test watching one go back to
    // its minimum should not wait for a production-sized window.
    '--horizontal-pod-autoscaler-sync-period=5s', `--horizontal-pod-autoscaler-downscale-stabilization=${HPA_DOWNSCALE_STABILIZATION_S}s`,
  ]);
  start('kube-scheduler', join(kubeBin, 'kube-scheduler'), [
    `--kubeconfig=${kubeconfigs.scheduler}`, `--authentication-kubeconfig=${kubeconfigs.scheduler}`, `--authorization-kubeconfig=${kubeconfigs.scheduler}`,
    '--leader-elect=false', '--bind-address=127.0.0.1',
  ]);

  // --- node ----------------------------------------------------------------------------------------
  const containerdDir = join(dir, 'containerd');
  const containerdSocket = join(containerdDir, 'containerd.sock');
  const cniConfDir = join(dir, 'cni');
  await mkdir(cniConfDir, { recursive: true });
  await writeFile(join(cniConfDir, '10-local-cluster.conflist'), cniConfig(plan, join(dir, 'cni-ipam')));
  const registryPort = opts.registry ? registryPortOf(opts.registry) : undefined;
  await writeFile(join(dir, 'containerd.toml'), containerdConfig({
    root: join(containerdDir, 'root'), state: join(containerdDir, 'state'), socket: containerdSocket, cniConfDir, sandboxImage: PAUSE_IMAGE,
    ...(opts.registry ? { registry: { host: opts.registry, mirrors: opts.mirrors ?? [], endpoint: `http://127.0.0.1:${registryPort}` } } : {}),
  }));
  const containerd = start('containerd', 'containerd', ['--config', join(dir, 'containerd.toml')]);
  await waitReady(containerd, async () => {
    await execFileAsync('ctr', ['--address', containerdSocket, 'version'], { timeout: 10000 });
    return true;
  }, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, what: `ctr version on ${containerdSocket}` });
  const imagesDir = () => join(dir, 'images', randomBytes(4).toString('hex'));
  const importImages = (recipes: readonly ImageRecipe[]) => buildImages(recipes, imagesDir(), { kind: 'containerd', socket: containerdSocket });
  if (opts.registry) {
    // Plain HTTP on the node's addresses: containerd pulls from localhost, this machine pushes to the node's IP.
    await writeFile(join(dir, 'registry.json'), JSON.stringify({
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'registry') }, delete: { enabled: true } },
      http: { addr: `0.0.0.0:${registryPort}`, secret: randomBytes(18).toString('base64url') },
    }));
    const registry = start('registry', findRegistryBinary(), ['serve', join(dir, 'registry.json')]);
    await waitReady(registry, async () => (await fetch(`http://${plan.nodeIp}:${registryPort}/v2/`, { signal: AbortSignal.timeout(5000) })).ok, {
      timeoutMs: READY_TIMEOUT_MS, intervalMs: 200, what: `http://${plan.nodeIp}:${registryPort}/v2/`,
    });
  }
  const pushImages = (recipes: readonly ImageRecipe[]) => {
    if (!opts.registry) return Promise.reject(new HarnessError('pushImages: this cluster was started without a registry'));
    return buildImages(recipes, imagesDir(), { kind: 'registry', hosts: [opts.registry, ...(opts.mirrors ?? [])], pushTo: `${plan.nodeIp}:${registryPort}` });
  };
  await importImages([
    { name: PAUSE_IMAGE, populate: (rootfs) => installFile(rootfs, join(clusterBin, 'pause'), 'pause'), config: { entrypoint: ['/pause'], user: '65535' } },
    { name: COREDNS_IMAGE, populate: (rootfs) => installFile(rootfs, join(clusterBin, 'coredns'), 'coredns'), config: { entrypoint: ['/coredns'] } },
    nodeBaseRecipe(),
  ]);

  await createCgroupRoot(state.cgroupRoot);
  const resolvConf = join(dir, 'resolv.conf');
  // Pods with dnsPolicy Default (CoreDNS itself) get this; there is no resolver outside to name.
  await writeFile(resolvConf, 'nameserver 127.0.0.1\n');
  await writeFile(join(dir, 'kubelet.json'), kubeletConfig(plan, {
    clientCaFile: ca.caFile, tlsCertFile: kubeletServing.certFile, tlsKeyFile: kubeletServing.keyFile, containerdSocket,
    podLogsDir: join(dir, 'pod-logs'), resolvConf, cgroupRoot: `/${state.cgroupRoot}`,
  }, isCgroupV1()));
  const kubelet = start('kubelet', join(kubeBin, 'kubelet'), [
    `--config=${join(dir, 'kubelet.json')}`, `--kubeconfig=${kubeconfigs.kubelet}`, `--root-dir=${join(dir, 'kubelet')}`,
    `--cert-dir=${join(dir, 'kubelet-certs')}`, `--hostname-override=${NODE_NAME}`, `--node-ip=${plan.nodeIp}`, '--v=1',
    `--node-labels=topology.kubernetes.io/zone=${opts.zone}`,
  ]);
  // The ClusterRoleBinding the API server needs to reach kubelet (logs, exec) under webhook authorisation.
  await apply(kubectl, [{
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'kube-apiserver-kubelet-client' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kube-apiserver-kubelet-client' }],
  }]);
  await writeFile(join(dir, 'kube-proxy.json'), kubeProxyConfig(plan, kubeconfigs.proxy));
  const proxy = start('kube-proxy', join(kubeBin, 'kube-proxy'), [`--config=${join(dir, 'kube-proxy.json')}`]);
  const router = start('kube-router', join(clusterBin, 'kube-router'), [
    `--kubeconfig=${kubeconfigs.admin}`, `--hostname-override=${NODE_NAME}`,
    '--run-firewall=true', '--run-router=false', '--run-service-proxy=false', '--enable-cni=false', '--enable-ipv4=true', '--enable-ipv6=false',
    `--health-port=${PORTS.kubeRouterHealth}`, '--metrics-port=0', '--iptables-sync-period=1m',
  ]);

  await waitReady(kubelet, async () => {
    const node = JSON.parse(await kubectl(['get', 'node', NODE_NAME, '-o', 'json'], undefined, 10000)) as { status?: { conditions?: { type: string; status: string }[] } };
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  }, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 500, what: `node ${NODE_NAME} Ready` });
  await waitReady(proxy, async () => (await fetch(`http://${plan.nodeIp}:${PORTS.kubeProxyHealth}/healthz`)).ok, {
    timeoutMs: READY_TIMEOUT_MS, intervalMs: 500, what: 'kube-proxy /healthz',
  });
  await waitReady(router, async () => (await fetch(`http://${plan.nodeIp}:${PORTS.kubeRouterHealth}/healthz`)).ok, {
    timeoutMs: READY_TIMEOUT_MS, intervalMs: 500, what: 'kube-router /healthz',
  });

  await apply(kubectl, coreDnsManifests(plan, COREDNS_IMAGE, opts.dnsHosts ?? {}));
  await kubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', `--timeout=${READY_TIMEOUT_MS / 1000}s`], undefined, READY_TIMEOUT_MS + 10000);

  return {
    dir,
    network: plan,
    url,
    ca,
    kubeconfig: kubeconfigs.admin,
    containerdSocket,
    env: () => ({ ...process.env, KUBECONFIG: kubeconfigs.admin, PATH: [kubeBin, process.env.PATH ?? ''].join(delimiter) }),
    kubectl,
    apply: (objects) => apply(kubectl, objects),
    importImages,
    pushImages,
    ...(opts.registry ? { registryAddress: `${plan.nodeIp}:${registryPort}` } : {}),
    logFiles,
    hostKernelTunables: { ...state.kernelTunables },
    dispose: disposeOnce(dir, () => tearDown(state, processes)),
  };
}

async function apply(kubectl: (args: readonly string[], input?: string, timeoutMs?: number) => Promise<string>, objects: readonly object[] | string): Promise<string> {
  const input = typeof objects === 'string' ? objects : JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
  return kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=local-cluster', '-f', '-'], input, 300000);
}

