// The third-party images the charts and add-ons run, built here because their registries
// (docker.io, quay.io, registry.k8s.io, ghcr.io) cannot be reached. Each keeps the name the manifests use; the cluster's
// registry mirrors those registries, so the pods pull them as they would in EKS. Each is a
// stand-in, named with what differs:
// - PgBouncer (edoburu/pgbouncer): Debian's pgbouncer (bookworm: 1.18, the image has 1.24) and the
//   shell tools its start script runs (busybox, static, and coreutils' cksum).
// - The PgBouncer exporter: scripts/local-cluster/pgbouncer-exporter.ts on the Node base stand-in.
// - Vault (hashicorp/vault, the agent the injector adds to pods): the vault binary the harness
//   runs (the spec's version) and busybox for the injector's `/bin/sh -ec` start command.
// - The injector (hashicorp/vault-k8s): the vault-k8s binary scripts/setup/vault-injector.sh builds.
// - metrics-server (registry.k8s.io/metrics-server/metrics-server): the release the chart runs, as
//   scripts/setup/metrics-server.sh builds it, with distroless/static's accounts.
// - KEDA (ghcr.io/kedacore/keda, ghcr.io/kedacore/keda-metrics-apiserver): the release the chart
//   runs, as scripts/setup/keda.sh builds it, with distroless/static:nonroot's accounts.
// - Prometheus (quay.io/prometheus/prometheus): the release the chart runs, as
//   scripts/setup/prometheus.sh builds it (no web UI assets), run as nobody as in its image.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { PlatformSpec } from '../../lib/spec';
import { HarnessError, REPO_ROOT, cacheDir, installed } from '../local-stack/process';
import { BASE_STAND_INS, installFile, sharedLibraries } from './images';
import type { ImageRecipe } from './images';
import { CHART_DEFAULTS as KEDA_CHART, KEDA_VERSION, findKeda } from './keda';
import { CHART_DEFAULTS as METRICS_SERVER_CHART, METRICS_SERVER_VERSION, findMetricsServerBinary } from './metrics-server';
import { CHART_DEFAULTS as PROMETHEUS_CHART, PROMETHEUS_VERSION, findPrometheusBinary } from './prometheus';
import { VAULT_K8S_VERSION, findVaultInjectorBinary } from './vault-injector';

const BUSYBOX = '/bin/busybox';
const PGBOUNCER = '/usr/sbin/pgbouncer';
const CKSUM = '/usr/bin/cksum';
const NONROOT = 65532;

/** A why for each stand-in, by the image name it replaces (the test headers list them). */
export const WORKLOAD_STAND_INS = {
  pgbouncer: 'docker.io cannot be reached: Debian\'s pgbouncer (1.18) with busybox for its start script',
  exporter: 'the Go module proxy serves no pgbouncer_exporter and quay.io cannot be reached: scripts/local-cluster/pgbouncer-exporter.ts, the same flags and series',
  vault: 'docker.io cannot be reached: the harness\'s vault binary (the spec\'s version) with busybox for the injector\'s shell command',
  injector: 'docker.io cannot be reached: vault-k8s as scripts/setup/vault-injector.sh builds it (the proxy\'s newest, v1.6.2; the chart\'s default is 1.7.0)',
  metricsServer: `registry.k8s.io cannot be reached: metrics-server ${METRICS_SERVER_VERSION}, the chart's release, as scripts/setup/metrics-server.sh builds it, with distroless/static's accounts`,
  keda: `ghcr.io cannot be reached: KEDA ${KEDA_VERSION}, the chart's release, as scripts/setup/keda.sh builds it (operator and metrics API server), with distroless/static's accounts`,
  prometheus: `quay.io cannot be reached: Prometheus ${PROMETHEUS_VERSION}, the chart's release, as scripts/setup/prometheus.sh builds it (without the web UI's assets)`,
} as const;

/** busybox at /bin/busybox and the applets a recipe's scripts call, as /bin links to it. */
function installBusybox(rootfs: string, applets: readonly string[]): void {
  installFile(rootfs, BUSYBOX, 'bin/busybox');
  for (const applet of applets) symlinkSync('busybox', join(rootfs, 'bin', applet));
}

/** passwd/group naming root and the workloads' nonroot user, and a sticky /tmp. */
function installAccounts(rootfs: string, home: string): void {
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'passwd'), `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:${home}:/sbin/nologin\n`);
  writeFileSync(join(rootfs, 'etc', 'group'), `root:x:0:\nnonroot:x:${NONROOT}:\n`);
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
}


export function pgbouncerRecipe(spec: PlatformSpec): ImageRecipe {
  installed(PGBOUNCER, { script: 'servers.sh', verb: 'install' });
  installed(BUSYBOX, { script: 'cluster.sh', verb: 'install' });
  return {
    name: spec.workloads.pgbouncer.image,
    populate(rootfs) {
      installFile(rootfs, PGBOUNCER, 'usr/bin/pgbouncer');
      for (const lib of sharedLibraries(PGBOUNCER)) installFile(rootfs, lib, lib.slice(1));
      installBusybox(rootfs, ['sh', 'cat', 'sleep', 'kill']);
      // Debian's busybox has no cksum applet: coreutils' (its libraries are PgBouncer's, libc).
      installFile(rootfs, CKSUM, 'usr/bin/cksum');
      for (const lib of sharedLibraries(CKSUM)) installFile(rootfs, lib, lib.slice(1));
      installAccounts(rootfs, '/tmp');
    },
    config: { entrypoint: ['/usr/bin/pgbouncer'], user: String(NONROOT), workingDir: '/', env: { PATH: '/usr/bin:/bin' } },
  };
}

/** Needs the Node base stand-in (nodeBaseRecipe) earlier in the same build. */
export async function pgbouncerExporterRecipe(spec: PlatformSpec, buildDir: string): Promise<ImageRecipe> {
  const bundle = join(buildDir, 'pgbouncer-exporter.js');
  await promisify(execFile)('npx', ['tsx', join('scripts', 'local-cluster', 'bundle-exporter.ts'), bundle], { cwd: REPO_ROOT, timeout: 120000 })
    .catch((error: { stderr?: string; message: string }) => {
      throw new HarnessError(`bundling the PgBouncer exporter: ${error.message}\n${error.stderr ?? ''}`);
    });
  return {
    name: spec.workloads.pgbouncer.exporterImage,
    base: BASE_STAND_INS['gcr.io/distroless/nodejs24-debian12:nonroot']!.name,
    populate: (rootfs) => installFile(rootfs, bundle, 'exporter/main.js', 0o644),
    config: { entrypoint: ['/nodejs/bin/node', '/exporter/main.js'], user: String(NONROOT), workingDir: '/exporter' },
  };
}

/** The agent image the injector runs in pods, named `docker.io/hashicorp/vault:<spec version>`. */
export const vaultImage = (spec: PlatformSpec) => `docker.io/hashicorp/vault:${spec.vault.version}`;

export function vaultRecipe(spec: PlatformSpec): ImageRecipe {
  const vault = cacheDir('vault', 'bin', 'vault');
  installed(vault, { script: 'vault.sh' });
  installed(BUSYBOX, { script: 'cluster.sh', verb: 'install' });
  return {
    name: vaultImage(spec),
    populate(rootfs) {
      installFile(rootfs, vault, 'bin/vault');
      installBusybox(rootfs, ['sh', 'echo', 'base64', 'cat', 'mkdir']);
      installAccounts(rootfs, '/home/vault');
      mkdirSync(join(rootfs, 'home', 'vault'), { recursive: true });
    },
    config: { entrypoint: ['/bin/vault'], user: String(NONROOT), workingDir: '/', env: { PATH: '/bin' } },
  };
}

/** The injector's image, named as HashiCorp's at the version built here. */
export const vaultInjectorImage = () => `docker.io/hashicorp/vault-k8s:${VAULT_K8S_VERSION.replace(/^v/, '')}`;

/** HashiCorp's image runs /bin/vault-k8s as its entrypoint; the chart passes only its args. */
export function vaultInjectorRecipe(): ImageRecipe {
  const binary = findVaultInjectorBinary();
  return {
    name: vaultInjectorImage(),
    populate(rootfs) {
      installFile(rootfs, binary, 'bin/vault-k8s');
      installAccounts(rootfs, '/tmp');
    },
    config: { entrypoint: ['/bin/vault-k8s'], user: '100', workingDir: '/' },
  };
}

/** gcr.io/distroless/static's passwd and group (root, nobody, nonroot) and its sticky /tmp. */
function installDistrolessStaticAccounts(rootfs: string): void {
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'passwd'), `root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n`);
  writeFileSync(join(rootfs, 'etc', 'group'), `root:x:0:\nnobody:x:65534:\nnonroot:x:${NONROOT}:\n`);
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
}

/** metrics-server's image, named as the chart's repository at the release built here. */
export const metricsServerImage = () => `${METRICS_SERVER_CHART.image.repository}:${METRICS_SERVER_VERSION}`;

/**
 * The release's image: /metrics-server on gcr.io/distroless/static (its entrypoint, user 65534;
 * the chart runs it as 1000 with a read-only root and /tmp an emptyDir).
 */
export function metricsServerRecipe(): ImageRecipe {
  const binary = findMetricsServerBinary();
  return {
    name: metricsServerImage(),
    populate(rootfs) {
      installFile(rootfs, binary, 'metrics-server');
      installDistrolessStaticAccounts(rootfs);
    },
    config: { entrypoint: ['/metrics-server'], user: '65534', workingDir: '/' },
  };
}

/** KEDA's images, named as the chart's repositories at the release built here (the chart's tag has no `v`). */
export const kedaImages = () => {
  const tag = KEDA_VERSION.replace(/^v/, '');
  const { keda, metricsApiServer } = KEDA_CHART.image;
  return { operator: `${keda.registry}/${keda.repository}:${tag}`, metricsApiServer: `${metricsApiServer.registry}/${metricsApiServer.repository}:${tag}` };
};

/**
 * The release's two images, as its Dockerfiles make them: /keda and /keda-adapter on
 * gcr.io/distroless/static:nonroot (user 65532, working directory /; the chart names the command),
 * with the CA certificates distroless carries for the scalers' TLS.
 */
export function kedaRecipes(): ImageRecipe[] {
  const release = findKeda();
  const images = kedaImages();
  const recipe = (name: string, binary: string, path: string): ImageRecipe => ({
    name,
    populate(rootfs) {
      installFile(rootfs, binary, path);
      installFile(rootfs, '/etc/ssl/certs/ca-certificates.crt', 'etc/ssl/certs/ca-certificates.crt', 0o644);
      installDistrolessStaticAccounts(rootfs);
    },
    config: { entrypoint: [`/${path}`], user: `${NONROOT}:${NONROOT}`, workingDir: '/' },
  });
  return [recipe(images.operator, release.operator, 'keda'), recipe(images.metricsApiServer, release.adapter, 'keda-adapter')];
}

/** Prometheus's image, named as the chart's repository at the release built here. */
export const prometheusImage = () => `${PROMETHEUS_CHART.server.image.repository}:${PROMETHEUS_VERSION}`;

/**
 * The release's image: /bin/prometheus (its entrypoint) run as nobody (65534), working directory
 * /prometheus, writable by that user, as in the official image.
 */
export function prometheusRecipe(): ImageRecipe {
  const binary = findPrometheusBinary();
  return {
    name: prometheusImage(),
    populate(rootfs) {
      installFile(rootfs, binary, 'bin/prometheus');
      installDistrolessStaticAccounts(rootfs);
      mkdirSync(join(rootfs, 'prometheus'), { recursive: true });
      execFileSync('chown', ['65534:65534', join(rootfs, 'prometheus')]);
    },
    config: { entrypoint: ['/bin/prometheus'], user: '65534', workingDir: '/prometheus' },
  };
}
