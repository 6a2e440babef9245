// Container images for the local cluster without a Docker engine: each is an OCI image made with
// umoci (layout, layers, config), then either turned into a docker-archive by skopeo and imported
// into containerd's k8s.io namespace with `ctr images import` (the cluster's own images), or
// pushed by skopeo to the registry beside the node (the images the charts pull).
//
// The services' images follow their Dockerfiles: the file is read and each instruction applied
// (ARG, FROM, WORKDIR, COPY, USER, ENV, ENTRYPOINT), so an instruction this builder does not know
// fails the build instead of being skipped. Their base, distroless Node.js 24, cannot be pulled
// here: a stand-in with what the services use from it is built instead (the node binary and the
// libraries it links, CA certificates, the nonroot user 65532, /tmp), named in BASE_STAND_INS.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HarnessError, REPO_ROOT } from '../local-stack/process';
import { run } from './network';

/** An image to import: a name, a root filesystem to lay out, its config. */
export interface ImageRecipe {
  /** The reference the pods use, e.g. `localhost/local-cluster/pause:1`. */
  readonly name: string;
  /** Fills the root filesystem (an empty folder, or the base's when `base` is given). */
  populate(rootfs: string): void;
  /** Another recipe's name whose layers this image starts from. */
  readonly base?: string;
  readonly config: ImageConfig;
  /** Built only as the base of the recipes after it, not delivered (a stand-in base). */
  readonly baseOnly?: boolean;
}

export interface ImageConfig {
  readonly entrypoint: readonly string[];
  readonly user?: string;
  readonly workingDir?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Copies a static binary (or a file) to `path` inside the root filesystem, executable. */
export function installFile(rootfs: string, source: string, path: string, mode = 0o755): void {
  const target = join(rootfs, path);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(source, target);
  chmodSync(target, mode);
}

/** The shared libraries `ldd` lists for a dynamically linked binary (the loader included). */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(\/\S+) \(0x[0-9a-f]+\)/g)].map((m) => m[1]!);
}

/**
 * distroless/nodejs24-debian12:nonroot as the services use it: /nodejs/bin/node (this harness's
 * Node.js 24, which must be the major of the Dockerfile's base), its libraries, CA certificates,
 * passwd/group with root, nobody and nonroot (65532), a sticky /tmp.
 */
export function nodeBaseRootfs(rootfs: string, node = process.execPath): void {
  installFile(rootfs, node, 'nodejs/bin/node');
  for (const lib of sharedLibraries(node)) installFile(rootfs, lib, lib.slice(1));
  installFile(rootfs, '/etc/ssl/certs/ca-certificates.crt', 'etc/ssl/certs/ca-certificates.crt', 0o644);
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n');
  writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n');
  mkdirSync(join(rootfs, 'home', 'nonroot'), { recursive: true });
  execFileSync('chown', ['65532:65532', join(rootfs, 'home', 'nonroot')]);
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
}

/** The bases a Dockerfile may name, and the recipe name of each one's stand-in. */
export const BASE_STAND_INS: Readonly<Record<string, { name: string; why: string }>> = {
  'gcr.io/distroless/nodejs24-debian12:nonroot': {
    name: 'localhost/local-cluster/nodejs24:nonroot',
    why: 'gcr.io cannot be reached here; the stand-in carries the node binary the harness runs, its libraries, CA certificates and the nonroot user',
  },
};

/**
 * The Node base stand-in. `trustedCaFile`: a CA Node.js trusts besides its bundled roots
 * (NODE_EXTRA_CA_CERTS), standing in for the public roots that sign what the services reach
 * outside the cluster in AWS (ElastiCache's and MSK's certificates, the payment provider's).
 */
export function nodeBaseRecipe(opts: { trustedCaFile?: string } = {}): ImageRecipe {
  const major = process.versions.node.split('.')[0];
  if (major !== '24') throw new HarnessError(`the services' base image is Node.js 24; this harness runs ${process.version} (. scripts/node.sh)`);
  const extraCa = '/etc/ssl/certs/local-cluster-outside-ca.pem';
  return {
    name: BASE_STAND_INS['gcr.io/distroless/nodejs24-debian12:nonroot']!.name,
    populate(rootfs) {
      nodeBaseRootfs(rootfs);
      if (opts.trustedCaFile) installFile(rootfs, opts.trustedCaFile, extraCa.slice(1), 0o644);
    },
    config: {
      entrypoint: ['/nodejs/bin/node'], user: '65532', workingDir: '/home/nonroot',
      env: {
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
        ...(opts.trustedCaFile ? { NODE_EXTRA_CA_CERTS: extraCa } : {}),
      },
    },
  };
}

/**
 * The recipe of `services/<service>/Dockerfile`, built from `context` (the Dockerfiles' is the
 * repository root): COPY sources are read from there, after `npm run build:services`.
 */
export function dockerfileRecipe(dockerfile: string, name: string, buildArgs: Readonly<Record<string, string>> = {}, context = REPO_ROOT): ImageRecipe {
  const text = readFileSync(dockerfile, 'utf8').replace(/\\\n/g, ' ');
  const args: Record<string, string> = {};
  const expand = (value: string) => value.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => {
    const key = (a ?? b) as string;
    if (!(key in args)) throw new HarnessError(`${dockerfile}: $${key} is not an ARG`);
    return args[key]!;
  });
  let base: string | undefined;
  let user: string | undefined;
  let workingDir = '/';
  let entrypoint: string[] | undefined;
  const env: Record<string, string> = {};
  const copies: { from: string; to: string; chown?: string }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [instruction, ...rest] = line.split(/\s+/);
    const operand = line.slice(instruction!.length).trim();
    switch (instruction!.toUpperCase()) {
      case 'ARG': {
        const [key, value] = operand.split('=') as [string, string | undefined];
        args[key] = buildArgs[key] ?? args[key] ?? value ?? '';
        break;
      }
      case 'FROM': {
        const stand = BASE_STAND_INS[expand(operand)];
        if (!stand) throw new HarnessError(`${dockerfile}: FROM ${operand}: no stand-in for this base (scripts/local-cluster/images.ts BASE_STAND_INS)`);
        base = stand.name;
        break;
      }
      case 'WORKDIR': workingDir = expand(operand); break;
      case 'USER': user = expand(operand); break;
      case 'ENV':
        for (const pair of operand.match(/\w+=("[^"]*"|\S+)/g) ?? []) {
          const eq = pair.indexOf('=');
          env[pair.slice(0, eq)] = expand(pair.slice(eq + 1).replace(/^"|"$/g, ''));
        }
        break;
      case 'COPY': {
        const chown = /--chown=(\S+)/.exec(operand)?.[1];
        const paths = rest.filter((p) => !p.startsWith('--')).map(expand);
        if (paths.length !== 2) throw new HarnessError(`${dockerfile}: COPY ${operand}: one source and one destination are supported`);
        copies.push({ from: paths[0]!, to: paths[1]!, chown });
        break;
      }
      case 'ENTRYPOINT': entrypoint = JSON.parse(operand) as string[]; break;
      default:
        throw new HarnessError(`${dockerfile}: ${instruction} is not an instruction this builder applies (scripts/local-cluster/images.ts)`);
    }
  }
  if (!base || !entrypoint) throw new HarnessError(`${dockerfile}: no FROM or no ENTRYPOINT`);
  return {
    name,
    base,
    populate(rootfs) {
      for (const copy of copies) {
        const source = join(context, copy.from);
        if (!existsSync(source)) throw new HarnessError(`${dockerfile}: COPY ${copy.from}: missing (npm run build:services first)`);
        const target = join(rootfs, copy.to.startsWith('/') ? copy.to : join(workingDir, copy.to));
        mkdirSync(target, { recursive: true });
        cpSync(source, target, { recursive: true });
        if (copy.chown) execFileSync('chown', ['-R', copy.chown, target]);
      }
    },
    config: { entrypoint, user, workingDir, env },
  };
}

/** Where a built image goes: imported into containerd, or pushed to a registry. */
export type ImageDestination =
  | { readonly kind: 'containerd'; readonly socket: string }
  /**
   * `name` must start with one of `hosts` (the registry the node pulls from, or a public one it
   * mirrors), which `pushTo` replaces: where this machine reaches that registry.
   */
  | { readonly kind: 'registry'; readonly hosts: readonly string[]; readonly pushTo: string };

async function deliver(image: string, name: string, dir: string, destination: ImageDestination): Promise<void> {
  if (destination.kind === 'registry') {
    const host = destination.hosts.find((h) => name.startsWith(`${h}/`));
    if (!host) throw new HarnessError(`image ${name}: not in the registry or its mirrors (${destination.hosts.join(', ')})`);
    const target = `docker://${destination.pushTo}/${name.slice(host.length + 1)}`;
    await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${image}`, target], { timeoutMs: 300000 });
    return;
  }
  const archive = join(dir, 'image.tar');
  await run('skopeo', ['copy', '--quiet', `oci:${image}`, `docker-archive:${archive}:${name}`], { timeoutMs: 300000 });
  await run('ctr', ['--address', destination.socket, '-n', 'k8s.io', 'images', 'import', archive], { timeoutMs: 300000 });
  await run('rm', ['-f', archive]);
}

/**
 * Builds every recipe into one OCI layout under `dir` (bases first: a recipe's base must come
 * earlier in the list) and delivers each to `destination`.
 */
export async function buildImages(recipes: readonly ImageRecipe[], dir: string, destination: ImageDestination): Promise<void> {
  const layout = join(dir, 'layout');
  await run('umoci', ['init', '--layout', layout]);
  const tagOf = new Map<string, string>();
  const configOf = new Map<string, ImageConfig>();
  for (const [index, recipe] of recipes.entries()) {
    const tag = `image-${index}`;
    const image = `${layout}:${tag}`;
    const bundle = join(dir, `bundle-${index}`);
    if (recipe.base) {
      const baseTag = tagOf.get(recipe.base);
      if (!baseTag) throw new HarnessError(`image ${recipe.name}: its base ${recipe.base} is not built before it`);
      await run('umoci', ['unpack', '--image', `${layout}:${baseTag}`, bundle]);
    } else {
      await run('umoci', ['new', '--image', image]);
      await run('umoci', ['unpack', '--image', image, bundle]);
    }
    recipe.populate(join(bundle, 'rootfs'));
    await run('umoci', ['repack', '--image', image, bundle], { timeoutMs: 300000 });
    // As a Dockerfile's FROM: the base's environment, user and working directory carry over unless set again.
    const inherited = recipe.base ? configOf.get(recipe.base) : undefined;
    const { entrypoint } = recipe.config;
    const user = recipe.config.user ?? inherited?.user;
    const workingDir = recipe.config.workingDir ?? inherited?.workingDir;
    const env = { ...inherited?.env, ...recipe.config.env };
    await run('umoci', [
      'config', '--image', image, '--clear=config.entrypoint', '--clear=config.cmd', '--clear=config.env',
      ...entrypoint.map((arg) => `--config.entrypoint=${arg}`),
      ...(user ? [`--config.user=${user}`] : []),
      ...(workingDir ? [`--config.workingdir=${workingDir}`] : []),
      ...Object.entries(env).map(([k, v]) => `--config.env=${k}=${v}`),
    ]);
    await run('rm', ['-rf', bundle]);
    tagOf.set(recipe.name, tag);
    configOf.set(recipe.name, { entrypoint, user, workingDir, env });
    if (!recipe.baseOnly) await deliver(image, recipe.name, dir, destination);
  }
}
