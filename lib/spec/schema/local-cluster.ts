/**
 * The local environment: the charts applied to a single-node cluster on one small machine. It
 * has no AWS resources, so it is no entry of `environments` (the stacks, docs,
 * cost and reachability iterate those); the charts render it from staging's values with these
 * fields replacing staging's (lib/spec/environments.ts `localEnvironment`).
 */
import { z } from 'zod';
import { cidr, kebabName } from './common';
import { dnsName } from './edge';
import { environmentWorkloads } from './workloads';

export const localCluster = z.strictObject({
  /** The environment's name: dist/<name>/, the `platform/environment` label, the names derived from it. */
  name: kebabName,
  /**
   * The zones of its nodes (their `topology.kubernetes.io/zone` label, which the pods' hard zone
   * spread needs); each zone gets one subnet per security zone out of network.vpcCidr.
   */
  availabilityZones: z.array(kebabName).min(1, 'must list at least one zone'),
  network: z.strictObject({
    /** The address space the NetworkPolicies' zone subnets are cut from (lib/spec/topology.ts zoneSubnetCidrs). */
    vpcCidr: cidr,
  }),
  edge: z.strictObject({
    /** The public name the access tokens are issued for (JWT_ISSUER, JWT_AUDIENCE). */
    domainName: dnsName,
  }),
  /** `<host>[:<port>]` the node pulls the services' images from, in place of the environment's ECR registry. */
  imageRegistry: z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/, 'must be a registry host[:port] such as localhost:5000'),
  /** Sizes for its nodes (environments.<env>.workloads has the same shape). */
  workloads: environmentWorkloads,
});
export type LocalClusterSpec = z.infer<typeof localCluster>;
