/**
 * What every workload of the charts shares (DESIGN.md §4): non-root, read-only root FS, no
 * capabilities, RuntimeDefault seccomp, requests and limits, a PodDisruptionBudget and a
 * spread over zones and nodes.
 */
import type { Construct } from 'constructs';
import * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
import type { ContainerResourcesSpec } from '../../lib/spec';

/** uid/gid the containers run as: not root, not a uid any image maps to a real user. */
export const RUN_AS_USER = 65532;

export const podSecurityContext: k8s.PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  fsGroup: RUN_AS_USER,
  seccompProfile: { type: 'RuntimeDefault' },
};

export const containerSecurityContext: k8s.SecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS_USER,
  runAsGroup: RUN_AS_USER,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export function resources(spec: ContainerResourcesSpec): k8s.ResourceRequirements {
  return {
    requests: { cpu: k8s.Quantity.fromString(spec.requests.cpu), memory: k8s.Quantity.fromString(spec.requests.memory) },
    limits: { cpu: k8s.Quantity.fromString(spec.limits.cpu), memory: k8s.Quantity.fromString(spec.limits.memory) },
  };
}

/**
 * Spread over zones (hard: an AZ outage must leave replicas running) and nodes (soft: a small
 * staging node group may hold more replicas than nodes).
 */
export function topologySpread(selector: Record<string, string>): k8s.TopologySpreadConstraint[] {
  return [
    { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: selector } },
    { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
  ];
}

/** One voluntary disruption at a time: never below the autoscaler's floor minus one. */
export function disruptionBudget(scope: Construct, id: string, namespace: string, name: string, selector: Record<string, string>) {
  return new k8s.KubePodDisruptionBudget(scope, id, {
    metadata: { name, namespace },
    spec: { maxUnavailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: selector } },
  });
}

/** A writable, memory-backed /tmp: the root filesystem is read-only. */
export const tmpVolume: k8s.Volume = { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } };
export const tmpMount: k8s.VolumeMount = { name: 'tmp', mountPath: '/tmp' };

/**
 * Vault Agent injector annotations (docs/vault.md): an init container and a sidecar log in with
 * the pod's `vault`-audience token and render each secret to /vault/secrets/<file>, in memory.
 */
export function vaultAgentAnnotations(options: {
  role: string;
  vaultAddress: string;
  secrets: ReadonlyArray<{ file: string; path: string; template: string }>;
}): Record<string, string> {
  const annotations: Record<string, string> = {
    'vault.hashicorp.com/agent-inject': 'true',
    'vault.hashicorp.com/role': options.role,
    'vault.hashicorp.com/service': options.vaultAddress,
    'vault.hashicorp.com/auth-path': 'auth/kubernetes',
    // The projected token below, audience `vault` (the roles require it), not the API token.
    'vault.hashicorp.com/agent-service-account-token-volume-name': VAULT_TOKEN_VOLUME,
    // The Vault CA (docs/workloads.md: Secret `vault-ca` in the namespace, public material).
    'vault.hashicorp.com/tls-secret': 'vault-ca',
    'vault.hashicorp.com/ca-cert': '/vault/tls/ca.crt',
    'vault.hashicorp.com/agent-run-as-user': String(RUN_AS_USER),
    'vault.hashicorp.com/agent-run-as-group': String(RUN_AS_USER),
    'vault.hashicorp.com/agent-set-security-context': 'true',
    'vault.hashicorp.com/agent-requests-cpu': '25m',
    'vault.hashicorp.com/agent-limits-cpu': '100m',
    'vault.hashicorp.com/agent-requests-mem': '32Mi',
    'vault.hashicorp.com/agent-limits-mem': '64Mi',
  };
  for (const secret of options.secrets) {
    annotations[`vault.hashicorp.com/agent-inject-secret-${secret.file}`] = secret.path;
    annotations[`vault.hashicorp.com/agent-inject-template-${secret.file}`] = secret.template;
  }
  return annotations;
}

export const VAULT_TOKEN_VOLUME = 'vault-token';
/** The token the Vault Agent logs in with: short-lived, audience `vault`, nothing else. */
export const vaultTokenVolume = (expirationSeconds: number): k8s.Volume => ({
  name: VAULT_TOKEN_VOLUME,
  projected: { sources: [{ serviceAccountToken: { audience: 'vault', expirationSeconds, path: 'token' } }] },
});
