/**
 * How big the workloads are in one environment: the environment's own `workloads`
 * (environments.<env>.workloads, localCluster.workloads) where it gives them, else the global
 * values of services[] and workloads.pgbouncer. The charts and the checks size through here only.
 */
import type { ContainerResourcesSpec, EnvironmentSpec, PlatformSpecFields as PlatformSpec } from './schema';

/** A service's autoscaler bounds and container resources in one environment. */
export interface ServiceSizing {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly resources: ContainerResourcesSpec;
}

/** Each PgBouncer pool's replicas and its pods' two containers in one environment. */
export interface PgBouncerSizing {
  readonly replicas: number;
  readonly resources: ContainerResourcesSpec;
  readonly exporterResources: ContainerResourcesSpec;
}

type SizedEnvironment = Pick<EnvironmentSpec, 'workloads'>;

export function serviceSizing(spec: Pick<PlatformSpec, 'services'>, environment: SizedEnvironment, name: string): ServiceSizing {
  const service = spec.services.find((s) => s.name === name);
  if (!service) throw new Error(`services: no service named "${name}"`);
  const own = environment.workloads?.services;
  if (!own) return { minReplicas: service.autoscaling.minReplicas, maxReplicas: service.autoscaling.maxReplicas, resources: service.resources };
  const minReplicas = service.exposes === 'edge' ? own.edgeMinReplicas ?? own.minReplicas : own.minReplicas;
  return { minReplicas, maxReplicas: own.maxReplicas, resources: own.resources };
}

export function pgbouncerSizing(spec: Pick<PlatformSpec, 'workloads'>, environment: SizedEnvironment): PgBouncerSizing {
  const own = environment.workloads?.pgbouncer;
  if (own) return own;
  const { replicas, resources, exporterResources } = spec.workloads.pgbouncer;
  return { replicas, resources, exporterResources };
}
