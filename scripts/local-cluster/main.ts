// `npm run cluster:up`: the local cluster for exploration, in the foreground until Ctrl-C, which
// tears it down; `npm run cluster:up -- --platform`: with the whole platform on it (platform.ts),
// its workloads applied by Flux (`--kubectl`: by kubectl). `npm run cluster:down`: removes what a
// cluster whose process was killed left behind (its namespace, cgroups, processes and folder).
// Root only (namespaces, mounts, cgroups).
import { loadPlatformSpec, localEnvironment } from '../../lib/spec';
import { cleanUpStaleCluster, startLocalCluster } from '.';
import { clusterNetworkPlan, OUTSIDE } from './plan';
import { startLocalPlatform } from './platform';

async function up(withPlatform: boolean, applyWith: 'flux' | 'kubectl'): Promise<void> {
  const spec = loadPlatformSpec();
  const environment = localEnvironment(spec);
  const started = Date.now();
  console.log(`cluster: starting the local cluster${withPlatform ? ' and the platform on it' : ''} (scripts/local-cluster; binaries from npm run setup)`);
  const platform = withPlatform ? await startLocalPlatform({ spec, environment, applyWith, log: (line) => console.log(`platform: ${line}`) }) : undefined;
  const cluster = platform?.cluster ?? await startLocalCluster({ network: clusterNetworkPlan(spec, environment), zone: environment.availabilityZones[0]! });
  if (platform) {
    console.log(`platform: the gateway's Service answers HTTPS on port ${spec.services.find((s) => s.exposes === 'edge')?.port}; the load balancer's address is ${cluster.network.outsideAddresses[OUTSIDE.loadBalancer]}`);
  }
  console.log(`cluster: up in ${((Date.now() - started) / 1000).toFixed(1)} s; API server ${cluster.url}
  export KUBECONFIG=${cluster.kubeconfig}
  export PATH=${cluster.env().PATH!.split(':')[0]}:$PATH
  kubectl get nodes,pods -A
logs: ${cluster.dir}/logs; Ctrl-C stops it and removes everything.`);
  // Signal listeners alone do not keep Node running; the interval does, until a signal comes.
  const keepAlive = setInterval(() => undefined, 60_000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(keepAlive);
  console.log('cluster: stopping');
  await (platform ?? cluster).dispose();
  console.log('cluster: stopped; nothing left behind');
}

async function down(): Promise<void> {
  console.log((await cleanUpStaleCluster()) ? 'cluster: removed what the last cluster left behind' : 'cluster: no local cluster recorded; nothing to do');
}

const command = process.argv[2];
(command === 'up' ? up(process.argv.includes('--platform'), process.argv.includes('--kubectl') ? 'kubectl' : 'flux') : command === 'down' ? down() : Promise.reject(new Error('usage: tsx scripts/local-cluster/main.ts up|down')))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
