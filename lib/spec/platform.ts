/**
 * THE platform spec: every number of the system architecture document (spec/system-architecture.md
 * of the design folder), typed, so the repository needs no copy of the document.
 *
 * Values marked "spec" are copied from the architecture document (section in brackets);
 * values marked "choice" are ours, where the document is silent. Nothing else in the
 * repository may repeat a number that lives here: import it.
 */
import type { PlatformSpecInput } from './schema';

/** Placeholder account ids; override with PLATFORM_<ENV>_ACCOUNT or `-c <env>:account=...`. */
const PRODUCTION_ACCOUNT = '111111111111';
const STAGING_ACCOUNT = '222222222222';

export const platformSpecData: PlatformSpecInput = {
  project: 'platform',

  // spec §5 "Security Boundaries"; subnet sizes are our choice (private is large: pods take VPC IPs).
  securityZones: {
    public: { access: 'internet', examples: ['CDN', 'Load Balancer'], subnetCidrMask: 24 },
    dmz: { access: 'vpn-only', examples: ['API Gateway'], subnetCidrMask: 24 },
    private: { access: 'service-mesh', examples: ['Core services'], subnetCidrMask: 19 },
    restricted: { access: 'bastion-only', examples: ['Databases'], subnetCidrMask: 24 },
  },

  // spec §5: the DMZ is reached over the VPN, the restricted zone from the bastion. choice: both
  // reach the cluster's private API (kubectl), the bastion also Vault (bootstrap, docs/vault.md).
  operatorAccess: { vpn: ['dmz', 'cluster-api'], bastion: ['restricted', 'cluster-api', 'vault'] },

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
          serverCertificateId: '00000000-0000-4000-8000-000000000001',
          clientRootCertificateId: '00000000-0000-4000-8000-000000000002',
          clientCidr: '10.250.0.0/22', // choice
        },
        bastionInstanceType: 't3.micro', // choice
      },
      cluster: {
        kubernetesVersion: '1.35', // choice: newest with a kubectl layer in aws-cdk-lib
        nodeGroup: { instanceType: 'm5.xlarge', nodes: 10, diskSizeGiB: 100 }, // spec §4 (disk: choice)
        adminRoleName: 'platform-admin', // choice
        controlPlaneLogRetentionDays: 365, // choice
      },
      database: {
        readReplicas: 2, // spec §6 "2 replicas in production"
        instanceClass: 'db.r7g.large', // choice: 2 vCPU/16 GiB behind PgBouncer's pool of server connections
        allocatedStorageGiB: 200, // choice
        maxAllocatedStorageGiB: 1000, // choice: storage autoscaling ceiling
        backupRetentionDays: 35, // choice: RDS maximum point-in-time window
        logRetentionDays: 365, // choice
        // choice: below RDS's default for 16 GiB (LEAST(DBInstanceClassMemory/9531392, 5000), about 1,700).
        maxConnections: 1000,
      },
      cache: {
        nodeType: 'cache.r7g.large', // choice
        snapshotRetentionDays: 7, // choice
        logRetentionDays: 365, // choice
      },
      messaging: {
        brokerInstanceType: 'kafka.m7g.large', // choice
        brokerStorageGiB: 1000, // choice: per broker
        logRetentionDays: 365, // choice
      },
      analytics: {
        flink: {
          parallelism: 4, // choice: 4 KPUs read 24 partitions with headroom; autoscaling adds more
          parallelismPerKpu: 1, // choice: 1 slot per KPU, the keyed state (event ids) gets a full KPU
          autoScaling: true, // choice
          logRetentionDays: 365, // choice
        },
        warehouse: { baseCapacityRpu: 32, maxCapacityRpu: 128 }, // choice
      },
      // choice: production runs a promoted, immutable revision; promoting is a reviewed change of
      // this commit (docs/gitops.md), so the production configuration at any moment is one commit.
      gitops: { revision: { commit: '2858195ebc99978030c1e41f44f46df7d4d9bda0' } },
      edge: {
        // choice: placeholder names until the real DNS zone is delegated; origin.* is an alias of the ALB.
        domainName: 'api.platform.example.com',
        originDomainName: 'origin.api.platform.example.com',
        // choice: CloudFront reads viewer certificates from us-east-1 only, whatever the region.
        cloudFrontCertificateId: '00000000-0000-4000-8000-000000000011',
        loadBalancerCertificateId: '00000000-0000-4000-8000-000000000012', // choice: in the environment's region
        wafRateLimitPer5Minutes: 2000, // choice: per client IP; the gateway's own Redis limiter is finer-grained
        wafLogRetentionDays: 365, // choice
        accessLogExpirationDays: 365, // choice: as long as the WAF logs
        originVerifySecretVersionIds: [], // choice: the secret's current version until the first rotation (docs/edge.md)
      },
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
          serverCertificateId: '00000000-0000-4000-8000-000000000003',
          clientRootCertificateId: '00000000-0000-4000-8000-000000000004',
          clientCidr: '10.251.0.0/22', // choice
        },
        bastionInstanceType: 't3.micro', // choice
      },
      cluster: {
        kubernetesVersion: '1.35', // choice
        nodeGroup: { instanceType: 'm5.large', nodes: 3, diskSizeGiB: 50 }, // spec §4 (disk: choice)
        adminRoleName: 'platform-admin', // choice
        controlPlaneLogRetentionDays: 90, // choice
      },
      database: {
        readReplicas: 2, // choice: staging mirrors production's topology (spec §6)
        instanceClass: 'db.t4g.large', // choice: burstable is enough for staging
        allocatedStorageGiB: 50, // choice
        maxAllocatedStorageGiB: 200, // choice
        backupRetentionDays: 7, // choice
        logRetentionDays: 90, // choice
        maxConnections: 500, // choice: below RDS's default for 8 GiB (about 850)
      },
      cache: {
        nodeType: 'cache.t4g.medium', // choice
        snapshotRetentionDays: 1, // choice
        logRetentionDays: 90, // choice
      },
      messaging: {
        brokerInstanceType: 'kafka.m7g.large', // choice: KRaft brokers need m5/m7g, not t3
        brokerStorageGiB: 100, // choice: per broker
        logRetentionDays: 90, // choice
      },
      analytics: {
        flink: { parallelism: 1, parallelismPerKpu: 1, autoScaling: true, logRetentionDays: 90 }, // choice
        warehouse: { baseCapacityRpu: 8, maxCapacityRpu: 32 }, // choice: the smallest warehouse
      },
      gitops: { revision: { branch: 'main' } }, // choice: staging follows the main branch
      edge: {
        // choice: placeholder names until the real DNS zone is delegated; origin.* is an alias of the ALB.
        domainName: 'api.staging.platform.example.com',
        originDomainName: 'origin.api.staging.platform.example.com',
        // choice: CloudFront reads viewer certificates from us-east-1 only, whatever the region.
        cloudFrontCertificateId: '00000000-0000-4000-8000-000000000013',
        loadBalancerCertificateId: '00000000-0000-4000-8000-000000000014', // choice: in the environment's region
        wafRateLimitPer5Minutes: 2000, // choice: per client IP; the gateway's own Redis limiter is finer-grained
        wafLogRetentionDays: 90, // choice
        accessLogExpirationDays: 90, // choice: as long as the WAF logs
        originVerifySecretVersionIds: [], // choice: the secret's current version until the first rotation (docs/edge.md)
      },
    },
  },

  // The charts' single-node environment (docs/workloads.md "The local environment"): staging with
  // these values in place of staging's; it has no AWS resources. All our choice.
  localCluster: {
    name: 'local', // choice: dist/local/, `platform/environment: local`
    availabilityZones: ['local-a'], // choice: one node, one zone (its topology.kubernetes.io/zone label)
    // choice: beside the environments' VPCs and clear of them, their VPN clients and the Vault
    // standbys' VPCs (checked), so no ipBlock means two places.
    network: { vpcCidr: '10.30.0.0/16' },
    edge: { domainName: 'api.local.platform.example.com' }, // choice: placeholder like the environments'; the tokens' issuer and audience
    imageRegistry: 'localhost:5000', // choice: a registry beside the node; the machine holds no ECR credentials
    workloads: {
      // choice: one node of 2 CPUs, about 1.2 free beside the control plane: small requests so
      // every pod schedules, limits of a whole core so a pod is not throttled when it is busy,
      // memory limit = request as everywhere. One replica each and up to three, so the
      // autoscalers can be watched to act; the edge keeps two, so one can be killed under traffic
      // while the other serves.
      services: {
        minReplicas: 1, edgeMinReplicas: 2, maxReplicas: 3,
        resources: { requests: { cpu: '50m', memory: '192Mi' }, limits: { cpu: '1', memory: '192Mi' } },
      },
      // choice: one pooler per pool (a single node has nothing to spread over), small requests.
      pgbouncer: {
        replicas: 1,
        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '64Mi' } },
        exporterResources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
      },
    },
  },

  // spec §2 "Core Services" (name, port, purpose) and §6 "Auto-scaling Configuration"; what each
  // serves (exposes), its part in the access tokens and its generated keys: services/README.md.
  // Each entry holds everything about its service; all our choice unless marked spec:
  // - secrets: what it reads from Vault. spec §1 "System Overview": Users/Payments/Orders ->
  //   PostgreSQL, Orders -> Kafka, Users/Auth -> Redis; the gateway's rate-limit counters are in
  //   Redis (DESIGN.md §5). choice: auth-service also has a database: Redis is a cache, not the
  //   system of record for credentials (services/README.md).
  // - calls: services/README.md: the gateway calls the four services, auth-service calls
  //   user-service, payment-service calls order-service (GetOrder: amount, currency and owner of
  //   what it charges).
  // - database: choice: one database per service, named after what it holds (docs/data-tier.md);
  //   user-service serves profile reads from the replicas (DESIGN.md §5 "reads may use the replicas").
  // - resources: choice: Node.js processes with one event loop each; scale out, not up (limits 2x-4x
  //   requests so a GC burst is not throttled, memory limit = request so the scheduler never overcommits).
  // - slo: choice: per HTTP route (api-gateway) and per RPC (the others).
  services: [
    {
      name: 'api-gateway', port: 8000, healthPort: 9000, readinessPath: '/readyz', zone: 'dmz',
      purpose: 'Request routing, rate limiting',
      autoscaling: { minReplicas: 3, maxReplicas: 20, trigger: { type: 'cpu', targetUtilizationPercent: 70 } },
      // spec "System Overview": Load Balancer -> API Gateway; it checks every request's token.
      exposes: 'edge', tokens: 'verify',
      secrets: ['cache'],
      calls: ['auth-service', 'user-service', 'order-service', 'payment-service'],
      resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '512Mi' } },
      slo: { errorRateMaxPercent: 1, latencyP99MaxMs: 1000 },
    },
    {
      name: 'auth-service', port: 8001, healthPort: 9001, readinessPath: '/readyz', zone: 'private',
      purpose: 'Authentication, authorization',
      // choice: the spec gives no row; every request passes auth, so it scales like the gateway's callees.
      autoscaling: { minReplicas: 3, maxReplicas: 12, trigger: { type: 'cpu', targetUtilizationPercent: 70 } },
      exposes: 'grpc', tokens: 'sign',
      // choice: its signing keys are stored encrypted with a 32-byte key only Vault holds (AES-256);
      // replacing it would make every stored signing key unreadable, hence generated once.
      generatedKeys: [{ path: 'signing', field: 'keyEncryptionKey', bytes: 32, file: 'key-encryption-key', env: 'AUTH_KEY_ENCRYPTION_KEY_FILE' }],
      secrets: ['database', 'cache'],
      calls: ['user-service'],
      database: { name: 'auth' },
      resources: { requests: { cpu: '250m', memory: '384Mi' }, limits: { cpu: '1', memory: '384Mi' } },
      slo: { errorRateMaxPercent: 0.5, latencyP99MaxMs: 300 },
    },
    {
      name: 'user-service', port: 8002, healthPort: 9002, readinessPath: '/readyz', zone: 'private',
      purpose: 'User management, profiles',
      autoscaling: { minReplicas: 2, maxReplicas: 10, trigger: { type: 'cpu', targetUtilizationPercent: 70 } },
      exposes: 'grpc',
      secrets: ['database', 'cache'],
      database: { name: 'users', replicaReads: true },
      resources: { requests: { cpu: '250m', memory: '384Mi' }, limits: { cpu: '1', memory: '384Mi' } },
      slo: { errorRateMaxPercent: 0.5, latencyP99MaxMs: 300 },
    },
    {
      name: 'payment-service', port: 8003, healthPort: 9003, readinessPath: '/readyz', zone: 'private',
      purpose: 'Payment processing',
      exposes: 'grpc',
      autoscaling: {
        minReplicas: 3,
        maxReplicas: 15,
        // spec: "Request latency > 200ms"; p95 and the companion CPU trigger are our choice (DESIGN.md §7).
        trigger: { type: 'latency', percentile: 95, thresholdMs: 200, cpuTargetUtilizationPercent: 70 },
      },
      // the payment-events outbox relay (services part 2), and the Stripe secret key (workloads.paymentProvider).
      secrets: ['database', 'broker', 'payment-provider'],
      calls: ['order-service'],
      database: { name: 'payments' },
      resources: { requests: { cpu: '250m', memory: '384Mi' }, limits: { cpu: '1', memory: '384Mi' } },
      slo: { errorRateMaxPercent: 0.5, latencyP99MaxMs: 1000 }, // Stripe's round trip is in it
    },
    {
      name: 'order-service', port: 8004, healthPort: 9004, readinessPath: '/readyz', zone: 'private',
      purpose: 'Order management',
      // choice: the spec gives no row; orders follow user-service's shape.
      autoscaling: { minReplicas: 2, maxReplicas: 10, trigger: { type: 'cpu', targetUtilizationPercent: 70 } },
      exposes: 'grpc',
      secrets: ['database', 'broker'],
      database: { name: 'orders' },
      resources: { requests: { cpu: '250m', memory: '384Mi' }, limits: { cpu: '1', memory: '384Mi' } },
      slo: { errorRateMaxPercent: 0.5, latencyP99MaxMs: 300 },
    },
  ],

  dataTier: {
    postgres: {
      port: 5432,
      engineMajorVersion: '17', // choice: engine version
      // choice: a recent minor, pinned; auto minor upgrades are off so the template never drifts
      // from the running engine. Upgrade by changing this line.
      engineVersion: '17.9',
      masterUsername: 'postgres', // choice: RDS manages its password (docs/data-tier.md)
      logExports: ['postgresql', 'upgrade', 'iam-db-auth-error'], // choice: every log RDS for PostgreSQL exports
      monitoringIntervalSeconds: 60, // choice: enhanced monitoring granularity
      serviceStatementTimeoutSeconds: 10, // choice: well above the API's request budget, so a stuck query cannot hold a pooled connection
      performanceInsightsRetentionDays: 7, // choice: the free tier
      reservedConnections: 20, // choice: 3 superuser + 2 RDS slots, Vault's admin, operators and headroom
    },
    pgbouncer: { maxClientConnections: 1000, port: 6432 }, // spec §6 "max 1000 connections"
    // choice: Valkey, not Redis OSS: the BSD-licensed continuation of Redis OSS 7.2, the same protocol
    // and commands for our clients, and cheaper per node on ElastiCache (docs/data-tier.md).
    redis: { port: 6379, engine: 'valkey', engineVersion: '8.0' },
    kafka: {
      saslScramPort: 9096, iamPort: 9098, // MSK's fixed listener ports
      version: '3.9.x.kraft', // choice: KRaft metadata (no ZooKeeper); the last 3.x line, 4.x drops old client protocols
      brokersPerAz: 1, // choice: three brokers, one per AZ
      defaultReplicationFactor: 3, // choice: every partition in every AZ
      minInsyncReplicas: 2, // choice: acks=all survives one broker (or AZ) down
      scramUsername: 'platform-services', // choice
      topics: [
        // choice: 12 partitions = headroom over order-service's max replicas (10); a week of replay.
        { name: 'order-events', partitions: 12, retentionHours: 168, producer: 'order-service', purpose: 'order-service outbox: order created/updated' },
        { name: 'payment-events', partitions: 12, retentionHours: 168, producer: 'payment-service', purpose: 'payment-service outbox: payment authorised/captured/refunded' },
      ],
    },
    backup: {
      recoveryPointRetentionDays: 7, // choice: a week of hourly recovery points in-region
      drCopyRetentionDays: 7, // choice: the same week in the DR region
      // choice: recovery points cannot be deleted early, by anyone, once the grace period has passed.
      vaultLock: { minRetentionDays: 1, maxRetentionDays: 35, changeableForDays: 3 },
    },
    sharding: { implemented: false, plannedYear: 2026 }, // spec §6
  },

  // spec §3 Data Flow "Analytics: Kafka -> Flink -> Data Warehouse"; all our choice.
  analytics: {
    flink: {
      runtime: 'FLINK-2_2', // choice: the current Managed Flink major (Java 17); analytics/pom.xml pins Flink 2.2
      kafkaAuthentication: 'iam', // choice: the job signs in with its role; no password to hand it
      topics: ['order-events', 'payment-events'],
      consumerGroup: 'analytics',
      checkpointIntervalSeconds: 60, // choice: the warehouse lags Kafka by about a minute
      minPauseBetweenCheckpointsSeconds: 5, // choice
      dedupRetentionHours: 192, // choice: the topics' week of retention + a day
      maxOutOfOrdernessSeconds: 30, // choice: outbox relays publish within seconds
      idleTimeoutSeconds: 60, // choice
      allowedLatenessMinutes: 60, // choice: an hour of late events still corrects the windows
    },
    warehouse: {
      port: 5439, // Redshift's default
      databaseName: 'analytics', // choice
      schemaName: 'analytics', // choice
      adminUsername: 'warehouse_admin', // choice
      writerUsername: 'analytics_writer', // choice
    },
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

  // The reconciler of the configuration row above (docs/gitops.md); checks/gitops.ts bounds it by that row's RTO.
  gitops: {
    // choice: the newest release the Go module proxy serves that builds with Go 1.26 (v1.10 needs 1.27)
    fluxControllers: 'v1.9.6',
    sourceInterval: 'PT1M', // choice: a published revision reaches the cluster within a minute
    driftInterval: 'PT10M', // choice: a hand edit is reverted within ten minutes
    retryInterval: 'PT2M', // choice
    applyTimeout: 'PT10M', // choice: apply plus every Deployment's rollout (maxSurge 1, readiness probes)
    repositoryName: 'config', // choice: <project>/config beside the services' <project>/<service>
  },

  // spec "System Overview" / "Network Topology": Client -> CloudFront -> (WAF) ALB -> api-gateway.
  edge: {
    // choice: only static assets are cached; the API (the default behaviour) never is.
    staticPaths: { pathPatterns: ['/static/*'], defaultTtlSeconds: 86_400, maxTtlSeconds: 31_536_000 },
    originVerifyHeaderName: 'x-origin-verify', // choice
    // spec: com.amazonaws.global.cloudfront.origin-facing in us-east-1 (the id differs per region).
    cloudFrontOriginFacingPrefixLists: { 'us-east-1': 'pl-3b927c52' },
  },

  // DESIGN.md §7 "Multi-region Vault" (spec §7: secrets RPO 0, RTO 1 h); see docs/vault.md.
  vault: {
    version: '1.20.4', // choice: pinned OSS release from rpm.releases.hashicorp.com; bump here
    nodes: 3, // spec (DESIGN.md §7): 3 nodes over the 3 AZs
    instanceType: 'm6i.large', // choice: fixed-performance (no CPU credits to run out during an incident)
    diskSizeGiB: 20, // choice: OS, binary and the local audit file only; storage is DynamoDB
    apiPort: 8200, // choice: Vault's default API port
    clusterPort: 8201, // choice: Vault's default cluster (request forwarding) port
    auditLogRetentionDays: 365, // choice: PCI DSS 10.7 keeps audit trails one year
    enterpriseReplication: false, // choice: open-source Vault; true once Enterprise is licensed (DESIGN.md §7)
    standbyVpc: {
      // choice: DR-region VPCs outside every environment network, so they can be peered later.
      cidrs: { production: '10.110.0.0/20', staging: '10.120.0.0/20' },
      natGateways: 1, // choice: the standby is cold; one NAT serves its package installs at failover
      subnetCidrMask: 24, // choice: 3 public (NAT only) + 3 private subnets fill half of the /20
    },
    kubernetesTokenTtl: 'PT1H', // choice: pods re-authenticate hourly
    // The AWS APIs a node calls: storage, auto-unseal, its TLS secret, the audit log (docs/vault.md).
    awsApis: ['dynamodb', 'kms', 'secretsmanager', 'logs'],
    packageRepository: 'https://rpm.releases.hashicorp.com', // HashiCorp's official RPM repository
    dnsTtlSeconds: 60, // choice: clients follow a failover within a minute of the record moving
    // choice: daily (a leaked password lives a day at most; the Vault Agent re-renders right after
    // each rotation, the services re-read the file per connection, PgBouncer reloads its userlist
    // when the file changes).
    staticCredentialRotation: { services: 'PT24H' },
    pkiCaTtl: 'PT87600H', // choice: ten years, like the staging self-signed root; re-issued, not expired
  },

  // The charts (docs/workloads.md). All choice: the spec gives no workload sizes.
  workloads: {
    // choice: the tag the registry stack's repositories are read at when synth gets no
    // `-c services:imageTag=<git sha>`; CI passes the commit it built.
    defaultImageTag: 'unreleased',
    // choice: Stripe (services/README.md `STRIPE_*`); test and live mode share the API, the key differs.
    paymentProvider: { apiBase: 'https://api.stripe.com' },
    // choice: 5 s of endpoint drain, then 15 s for the services' own drain, then 10 s to exit.
    terminationGracePeriodSeconds: 30,
    // choice: kube-proxy applies an EndpointSlice change within a second or two on a quiet node,
    // and the load balancer controller deregisters the pod from the ALB in the same window.
    endpointDrainSeconds: 5,
    pgbouncer: {
      // choice: two poolers per pool in two zones; the spec's 1000 client connections are shared by
      // all four pods (max_client_conn = 1000 / (2 pools x 2 replicas) = 250 each).
      replicas: 2,
      image: 'docker.io/edoburu/pgbouncer:v1.24.1-p1', // choice: maintained, small, runs as non-root
      exporterImage: 'quay.io/prometheuscommunity/pgbouncer-exporter:v0.10.2', // choice: the Prometheus community exporter
      exporterPort: 9127, // choice: the exporter's default port
      defaultPoolSize: 20, // choice: per (database, user) and replica
      // choice: per database and replica: a pool's 2 x 4 databases x 50 = 400 server connections
      // fit each environment's database.maxConnections with the reserved ones (checked).
      maxDbConnections: 50,
      resources: { requests: { cpu: '250m', memory: '128Mi' }, limits: { cpu: '1', memory: '128Mi' } },
      exporterResources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
    },
    certificates: {
      // choice: production certificates from Vault's PKI engine (one CA, audited); staging and the
      // local cluster can run before Vault PKI is bootstrapped with a cluster-local self-signed CA.
      issuer: { production: 'vault-pki', staging: 'self-signed', local: 'self-signed' },
      vaultPkiPath: 'pki/sign/services', // choice: the mount and role vault/bootstrap.sh creates
      duration: 'PT720H', // choice: 30 days; rotation is routine, the services reload from disk
      renewBefore: 'PT240H', // choice: 10 days of slack for a Vault outage
    },
  },

  // Alarms, alerts and dashboards (docs/observability.md): every threshold sits next to what it
  // watches, with its unit in its name. All our choice unless derived (noted) from the spec above.
  observability: {
    alarmPeriodSeconds: 60, // choice: CloudWatch's standard resolution
    sustainedMinutes: 5, // choice: a condition holds this long before it alarms (one bad minute pages no one)
    database: {
      cpuUtilizationMaxPercent: 80, // choice
      // choice: storage autoscaling keeps >= 10% of the allocation free; below it, autoscaling failed or hit its ceiling
      freeStorageMinPercentOfAllocated: 10,
      // choice: of the server connections PgBouncer may open (workloads.pgbouncer: replicas x databases x maxDbConnections)
      connectionsMaxPercentOfPgBouncerBudget: 90,
      replicaLagWarningSeconds: 300, // choice; the critical replica-lag alarm is the database RPO itself
    },
    backup: {
      // choice: AWS Backup publishes its job and recovery-point counts every 5 minutes; the
      // no-recovery-point alarm fires RPO + one such period after the newest point, not before.
      metricPeriodMinutes: 5,
    },
    cache: {
      memoryUsageMaxPercent: 80, // choice: of maxmemory, before evictions start
      evictionsMaxPerMinute: 100, // choice: evicted rate-limit counters loosen the gateway's limits
      replicationLagMaxSeconds: 30, // choice
    },
    kafka: {
      diskUsedMaxPercent: 80, // choice: of each broker's data volume (environments.<env>.messaging.brokerStorageGiB)
      // choice: the warehouse lags Kafka by about a checkpoint (analytics.flink.checkpointIntervalSeconds); ten minutes is a stuck job
      analyticsConsumerLagMaxSeconds: 600,
    },
    edge: {
      loadBalancer5xxMaxPercent: 1, // choice: of requests, gateway (target) and ALB errors together
      targetResponseTimeP99MaxMs: 1000, // choice: the gateway's p99 as the ALB sees it
      wafBlockedRequestsMaxPer5Minutes: 5000, // choice: a spike well above the per-IP rate limit's normal trickle
      cloudFront5xxMaxPercent: 1, // choice
    },
    vault: {
      // choice: the secrets RPO is 0, which asynchronous replication cannot promise (docs/vault.md);
      // alarm when the lag leaves "about a second" far behind.
      replicationLatencyMaxMs: 5000,
    },
    nat: { packetsDroppedMaxPer5Minutes: 1000 }, // choice; any port-allocation error alarms
    analytics: {
      // choice: the warehouse at its RPU ceiling (environments.<env>.analytics.warehouse.maxCapacityRpu) this long is capacity, not a spike
      warehouseAtMaxCapacityMinutes: 30,
    },
    inCluster: {
      outboxBacklogMaxRows: 1000, // choice: rows not yet acknowledged by Kafka, per topic
      outboxLagP99MaxSeconds: 30, // choice: bench/orders measures ~0.2 s; 30 s is a relay or broker problem
      rateLimitFallbackMaxMinutes: 5, // choice: limits counted per pod (Redis down) for longer than this
      consumerDuplicateMaxPercent: 5, // choice: of consumed events; more is a redelivery storm
      certificateExpiryMinHours: 168, // choice: 7 days left means cert-manager missed its renewal (workloads.certificates.renewBefore)
      pgbouncerPoolUtilizationMaxPercent: 90, // choice: of max_db_connections per database and pooler
    },
    // choice: placeholder endpoints until the real pager and mailing lists exist. Production pages
    // (critical -> the pager), staging notifies only.
    notifications: {
      production: {
        paging: true,
        critical: [{ kind: 'pager', endpoint: 'https://events.pager.example.com/integration/platform-production' }],
        warning: [{ kind: 'email', endpoint: 'platform-alerts@example.com' }],
      },
      staging: {
        paging: false,
        critical: [{ kind: 'email', endpoint: 'platform-staging-alerts@example.com' }],
        warning: [{ kind: 'email', endpoint: 'platform-staging-alerts@example.com' }],
      },
    },
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
    vaultInjector: {
      chart: 'vault', repository: 'https://helm.releases.hashicorp.com',
      version: '0.31.0', namespace: 'vault', // choice: the injector only, pointed at the EC2 Vault cluster
    },
    // choice: the newest community chart confirmed here (Flux 2.8.5); its source-controller and
    // kustomize-controller images are set to gitops.fluxControllers, the release the tests build
    // and run (lib/constructs/cluster/addons/flux.ts).
    flux: {
      chart: 'flux2', repository: 'https://fluxcd-community.github.io/helm-charts',
      version: '2.18.3', namespace: 'flux-system',
    },
  },
};
