/**
 * The cluster side of the ops commands: kubectl as the operator runs it (their kubeconfig and
 * context, or --kubeconfig / --context), so the commands need no client library and act with the
 * operator's own RBAC. `KUBECTL` names another binary.
 */
import { execFile } from 'node:child_process';
import { OpsError } from './command';
import type { OpsArgs } from './command';

export const KUBECONFIG_FLAG = 'kubeconfig';
export const CONTEXT_FLAG = 'context';
export const KUBE_OPTIONS = {
  [KUBECONFIG_FLAG]: { type: 'string' },
  [CONTEXT_FLAG]: { type: 'string' },
} as const;

export interface Kube {
  /** Runs kubectl; resolves with stdout, rejects with an OpsError carrying its stderr. */
  kubectl(args: readonly string[], input?: string): Promise<string>;
  /** `kubectl get ... -o json`, or undefined when the object does not exist. */
  get(kind: string, name: string, namespace?: string): Promise<KubeObject | undefined>;
}

export function kubeFromArgs(args: OpsArgs, env: NodeJS.ProcessEnv = process.env): Kube {
  const binary = env.KUBECTL || 'kubectl';
  const global = [
    ...(typeof args.values[KUBECONFIG_FLAG] === 'string' ? [`--kubeconfig=${args.values[KUBECONFIG_FLAG]}`] : []),
    ...(typeof args.values[CONTEXT_FLAG] === 'string' ? [`--context=${args.values[CONTEXT_FLAG]}`] : []),
  ];
  const kubectl = (list: readonly string[], input?: string) => new Promise<string>((resolve, reject) => {
    const child = execFile(binary, [...global, ...list], { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return reject(new OpsError(`kubectl not found (${binary}): install it or set KUBECTL`));
      reject(new OpsError(`kubectl ${list.slice(0, 3).join(' ')}: ${stderr.trim() || error.message}`));
    });
    child.stdin?.end(input ?? '');
  });
  return {
    kubectl,
    async get(kind, name, namespace) {
      const out = await kubectl(['get', kind, name, ...(namespace ? ['-n', namespace] : []), '-o', 'json', '--ignore-not-found']);
      return out.trim() ? JSON.parse(out) as KubeObject : undefined;
    },
  };
}

export interface Condition { readonly type: string; readonly status: string; readonly reason?: string; readonly message?: string }

/** The parts of an object the commands read: metadata, and the status fields Flux and CRDs report. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly generation?: number };
  readonly data?: Readonly<Record<string, string>>;
  readonly status?: {
    readonly conditions?: readonly Condition[];
    readonly observedGeneration?: number;
    readonly artifact?: { readonly revision?: string };
    readonly lastAppliedRevision?: string;
    readonly inventory?: { readonly entries?: readonly { readonly id: string; readonly v: string }[] };
  };
}

export function condition(object: KubeObject | undefined, type: string): Condition | undefined {
  return object?.status?.conditions?.find((c) => c.type === type);
}
