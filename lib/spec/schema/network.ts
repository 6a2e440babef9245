/** The network of each environment: security zones, operator entry points, VPC and Client VPN. */
import { z } from 'zod';
import { acmCertificateId, cidr, instanceType, logRetentionDays, positiveInt } from './common';

/** The four zones of the spec's "Security Boundaries" table. */
export const ZONE_NAMES = ['public', 'dmz', 'private', 'restricted'] as const;
export type ZoneName = (typeof ZONE_NAMES)[number];

const securityZone = z.strictObject({
  access: z.enum(['internet', 'vpn-only', 'service-mesh', 'bastion-only']),
  examples: z.array(z.string()).min(1),
  /** Prefix length of this zone's subnet in each AZ. */
  subnetCidrMask: z.number().int().min(16).max(28),
});

export const securityZones = z.strictObject({
  public: securityZone,
  dmz: securityZone,
  private: securityZone,
  restricted: securityZone,
});

/** What an operator entry point may reach (operatorAccess). */
export const OPERATOR_TARGETS = ['dmz', 'cluster-api', 'restricted', 'vault'] as const;
export type OperatorTarget = (typeof OPERATOR_TARGETS)[number];

/**
 * The operators' entry points and what each reaches: the Client VPN (the DMZ's "VPN only") and
 * the SSM bastion (the restricted zone's "Bastion only"). Security groups and the reachability
 * model are derived from it.
 */
export const operatorAccess = z.strictObject({
  vpn: z.array(z.enum(OPERATOR_TARGETS)).min(1),
  bastion: z.array(z.enum(OPERATOR_TARGETS)).min(1),
});

/** environments.<name>.network */
export const environmentNetwork = z.strictObject({
  vpcCidr: cidr,
  natGateways: positiveInt,
  flowLogRetentionDays: logRetentionDays,
  vpn: z.strictObject({
    /** ACM certificate id of the VPN server certificate, in the environment's account and region. */
    serverCertificateId: acmCertificateId,
    /** ACM certificate id of the client root CA, in the environment's account and region. */
    clientRootCertificateId: acmCertificateId,
    clientCidr: cidr,
  }),
  bastionInstanceType: instanceType,
});
