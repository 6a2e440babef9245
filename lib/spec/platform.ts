/**
 * THE platform spec: every number of ../shared/spec/system-architecture.md, typed.
 *
 * Values marked "spec" are copied from the architecture document (section in brackets);
 * values marked "choice" are ours, where the document is silent. Nothing else in the
 * repository may repeat a number that lives here: import it.
 */
import type { PlatformSpec } from './schema';

/** Placeholder account ids; override with PLATFORM_<ENV>_ACCOUNT or `-c <env>:account=...`. */
const PRODUCTION_ACCOUNT = '111111111111';
const STAGING_ACCOUNT = '222222222222';

export const platformSpecData: PlatformSpec = {
  project: 'platform',

  // spec §5 "Security Boundaries"; subnet sizes are our choice (private is large: pods take VPC IPs).
  securityZones: {
    public: { access: 'internet', examples: ['CDN', 'Load Balancer'], subnetCidrMask: 24 },
    dmz: { access: 'vpn-only', examples: ['API Gateway'], subnetCidrMask: 24 },
    private: { access: 'service-mesh', examples: ['Core services'], subnetCidrMask: 19 },
    restricted: { access: 'bastion-only', examples: ['Databases'], subnetCidrMask: 24 },
  },

  environments: {
    production: {
      name: 'production',
      account: PRODUCTION_ACCOUNT,
      region: 'us-east-1', // spec §4
      availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'], // choice: given, so synth never looks them up
      terminationProtection: true, // choice
      network: {
        vpcCidr: '10.10.0.0/16', // choice
        natGateways: 3, // choice: one per AZ, an AZ outage keeps egress in the others
        flowLogRetentionDays: 365, // choice
        vpn: {
          serverCertificateArn: `arn:aws:acm:us-east-1:${PRODUCTION_ACCOUNT}:certificate/00000000-0000-4000-8000-000000000001`,
          clientRootCertificateArn: `arn:aws:acm:us-east-1:${PRODUCTION_ACCOUNT}:certificate/00000000-0000-4000-8000-000000000002`,
          clientCidr: '10.250.0.0/22', // choice
        },
        bastionInstanceType: 't3.micro', // choice
      },
      cluster: {
        kubernetesVersion: '1.35', // choice: newest with a kubectl layer in aws-cdk-lib
        nodeGroup: { instanceType: 'm5.xlarge', nodes: 10, diskSizeGiB: 100 }, // spec §4 (disk: choice)
        adminRoleArn: `arn:aws:iam::${PRODUCTION_ACCOUNT}:role/platform-admin`, // choice
        controlPlaneLogRetentionDays: 365, // choice
      },
      database: { readReplicas: 2 }, // spec §6 "2 replicas in production"
    },
    staging: {
      name: 'staging',
      account: STAGING_ACCOUNT,
      region: 'us-east-1', // spec §4
      availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'], // choice
      terminationProtection: true, // choice: staging holds data too
      network: {
        vpcCidr: '10.20.0.0/16', // choice
        natGateways: 1, // choice: one NAT is enough for staging; an AZ outage there is tolerable
        flowLogRetentionDays: 90, // choice
        vpn: {
          serverCertificateArn: `arn:aws:acm:us-east-1:${STAGING_ACCOUNT}:certificate/00000000-0000-4000-8000-000000000003`,
          clientRootCertificateArn: `arn:aws:acm:us-east-1:${STAGING_ACCOUNT}:certificate/00000000-0000-4000-8000-000000000004`,
          clientCidr: '10.251.0.0/22', // choice
        },
        bastionInstanceType: 't3.micro', // choice
      },
      cluster: {
        kubernetesVersion: '1.35', // choice
        nodeGroup: { instanceType: 'm5.large', nodes: 3, diskSizeGiB: 50 }, // spec §4 (disk: choice)
        adminRoleArn: `arn:aws:iam::${STAGING_ACCOUNT}:role/platform-admin`, // choice
        controlPlaneLogRetentionDays: 90, // choice
      },
      database: { readReplicas: 2 }, // choice: staging mirrors production's topology (spec §6)
    },
  },

  // spec §2 "Core Services" (name, port, purpose) and §6 "Auto-scaling Configuration".
  services: [
    {
      name: 'api-gateway', port: 8000, healthPort: 9000, zone: 'dmz',
      purpose: 'Request routing, rate limiting',
      autoscaling: { minReplicas: 3, maxReplicas: 20, trigger: { type: 'cpu', targetUtilizationPercent: 70 } },
    },
    {
      name: 'auth-service', port: 8001, healthPort: 9001, zone: 'private',
      purpose: 'Authentication, authorization',
      // choice: the spec gives no row; every request passes auth, so it scales like the gateway's callees.
      autoscaling: { minReplicas: 3, maxReplicas: 12, trigger: { type: 'cpu', targetUtilizationPercent: 70 } },
    },
    {
      name: 'user-service', port: 8002, healthPort: 9002, zone: 'private',
      purpose: 'User management, profiles',
      autoscaling: { minReplicas: 2, maxReplicas: 10, trigger: { type: 'cpu', targetUtilizationPercent: 70 } },
    },
    {
      name: 'payment-service', port: 8003, healthPort: 9003, zone: 'private',
      purpose: 'Payment processing',
      autoscaling: {
        minReplicas: 3,
        maxReplicas: 15,
        // spec: "Request latency > 200ms"; p95 and the companion CPU trigger are our choice (DESIGN.md §7).
        trigger: { type: 'latency', percentile: 95, thresholdMs: 200, cpuTargetUtilizationPercent: 70 },
      },
    },
    {
      name: 'order-service', port: 8004, healthPort: 9004, zone: 'private',
      purpose: 'Order management',
      // choice: the spec gives no row; orders follow user-service's shape.
      autoscaling: { minReplicas: 2, maxReplicas: 10, trigger: { type: 'cpu', targetUtilizationPercent: 70 } },
    },
  ],

  dataTier: {
    postgres: { port: 5432, engineMajorVersion: '17' }, // choice: engine version
    pgbouncer: { maxClientConnections: 1000, port: 6432 }, // spec §6 "max 1000 connections"
    redis: { port: 6379 },
    kafka: { saslScramPort: 9096, iamPort: 9098 }, // MSK's fixed listener ports
    sharding: { implemented: false, plannedYear: 2026 }, // spec §6
  },

  // choice: the DR region for standbys and backup copies (spec §7 names none); the nearest
  // large US region with three AZs, far enough from us-east-1 for a regional outage.
  drRegion: { name: 'us-west-2', availabilityZones: ['us-west-2a', 'us-west-2b', 'us-west-2c'] },

  // spec §7 "Disaster Recovery".
  disasterRecovery: {
    database: { rpo: 'PT1H', rto: 'PT4H', strategy: 'Automated snapshots' },
    secrets: { rpo: 'PT0S', rto: 'PT1H', strategy: 'Multi-region Vault' },
    configuration: { rpo: 'PT0S', rto: 'PT30M', strategy: 'GitOps' },
  },

  // choice: chart versions pinned so a deploy is reproducible; bump them here.
  clusterAddons: {
    awsLoadBalancerController: {
      chart: 'aws-load-balancer-controller', repository: 'https://aws.github.io/eks-charts',
      version: '3.5.0', namespace: 'kube-system',
    },
    metricsServer: {
      chart: 'metrics-server', repository: 'https://kubernetes-sigs.github.io/metrics-server',
      version: '3.13.0', namespace: 'kube-system',
    },
    certManager: {
      chart: 'cert-manager', repository: 'https://charts.jetstack.io',
      version: 'v1.19.1', namespace: 'cert-manager',
    },
    keda: {
      chart: 'keda', repository: 'https://kedacore.github.io/charts',
      version: '2.20.2', namespace: 'keda',
    },
    prometheus: {
      chart: 'prometheus', repository: 'https://prometheus-community.github.io/helm-charts',
      version: '27.45.0', namespace: 'monitoring',
    },
  },
};
