import { ENVIRONMENT_NAMES } from '../../lib/spec';
import { callersOf, serviceByName, serviceDnsName, zoneSubnetCidrs } from '../../lib/spec/topology';
import { findObject, renderEnvironment, spec } from './helpers';

describe.each(ENVIRONMENT_NAMES)('%s service charts', (envName) => {
  const environment = spec.environments[envName];
  const charts = renderEnvironment(envName, 'abc1234');

  describe.each(spec.services.map((s) => [s.name, s] as const))('%s', (name, service) => {
    const objects = charts[name]!;
    const deployment = findObject(objects, 'Deployment', name, name);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    const kinds = serviceByName(spec, name).secrets;

    it('puts everything in the namespace named after the service', () => {
      expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set([name]));
    });

    it('runs the image of the service\'s ECR repository at the given tag', () => {
      expect(container.image).toBe(`${environment.account}.dkr.ecr.${environment.region}.amazonaws.com/platform/${name}:abc1234`);
    });

    it('exposes the spec\'s port and health port and probes the plaintext health port', () => {
      expect(container.ports.map((p: any) => p.containerPort)).toEqual([service.port, service.healthPort]);
      expect(container.startupProbe.httpGet).toEqual({ path: '/livez', port: 'health' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'health' });
      expect(container.readinessProbe.httpGet).toEqual({ path: service.readinessPath, port: 'health' });
      expect(deployment.spec.replicas).toBeUndefined(); // the autoscaler owns it
    });

    it('runs non-root, read-only, without capabilities or privilege escalation, seccomp RuntimeDefault', () => {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(container.securityContext).toEqual(expect.objectContaining({
        runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false,
        capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
      }));
      expect(pod.automountServiceAccountToken).toBe(false);
    });

    it('keeps serving through the endpoint drain, then drains and exits within the grace period', () => {
      expect(pod.terminationGracePeriodSeconds).toBe(spec.workloads.terminationGracePeriodSeconds);
      const endpointDrainMs = Number(env.ENDPOINT_DRAIN_MS);
      const shutdownGraceMs = Number(env.SHUTDOWN_GRACE_MS);
      expect(endpointDrainMs).toBe(spec.workloads.endpointDrainSeconds * 1000);
      expect(endpointDrainMs).toBeGreaterThan(0);
      expect(shutdownGraceMs).toBeGreaterThanOrEqual(1000);
      // Ten seconds of the grace period are left for the exit after both drains.
      expect(endpointDrainMs + shutdownGraceMs + 10_000).toBe(pod.terminationGracePeriodSeconds * 1000);
    });

    it('sets the requests and limits of the spec', () => {
      expect(container.resources).toEqual(serviceByName(spec, name).resources);
    });

    it('spreads replicas over zones (hard) and nodes, with a PodDisruptionBudget', () => {
      expect(pod.topologySpreadConstraints.map((c: any) => [c.topologyKey, c.whenUnsatisfiable])).toEqual([
        ['topology.kubernetes.io/zone', 'DoNotSchedule'], ['kubernetes.io/hostname', 'ScheduleAnyway'],
      ]);
      const pdb = findObject(objects, 'PodDisruptionBudget', name);
      expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': name } } });
    });

    it('binds the service account without the API token, for Vault only', () => {
      expect(findObject(objects, 'ServiceAccount', name).automountServiceAccountToken).toBe(false);
      expect(pod.serviceAccountName).toBe(name);
      const token = pod.volumes.find((v: any) => v.name === 'vault-token');
      expect(token.projected.sources[0].serviceAccountToken).toMatchObject({ audience: 'vault', path: 'token' });
    });

    it('gets a certificate whose CN is the identity and whose SANs are what callers dial', () => {
      const certificate = findObject(objects, 'Certificate', name);
      expect(certificate.spec.commonName).toBe(name);
      expect(certificate.spec.dnsNames).toEqual([name, `${name}.${name}.svc`, `${name}.${name}.svc.cluster.local`]);
      expect(certificate.spec.issuerRef).toEqual({ name: 'platform-services', kind: 'ClusterIssuer', group: 'cert-manager.io' });
      expect(certificate.spec.privateKey.rotationPolicy).toBe('Always');
      expect(pod.volumes).toContainEqual(expect.objectContaining({ name: 'tls', secret: expect.objectContaining({ secretName: certificate.spec.secretName }) }));
      expect([env.TLS_CERT_FILE, env.TLS_KEY_FILE, env.TLS_CA_FILE]).toEqual(['tls.crt', 'tls.key', 'ca.crt'].map((f) => `/etc/platform/tls/${f}`));
      // Every caller dials a host the certificate covers.
      for (const caller of callersOf(spec, name)) {
        const dialed = findObject(charts[caller]!, 'Deployment', caller).spec.template.spec.containers[0].env
          .find((e: any) => e.name === `${name.replace(/-/g, '_').toUpperCase()}_ADDR`).value as string;
        expect(dialed).toBe(`dns:///${serviceDnsName(name)}:${service.port}`);
        expect(certificate.spec.dnsNames).toContain(dialed.replace(/^dns:\/\/\//, '').replace(/:\d+$/, ''));
      }
    });

    it('serves HTTPS to the ALB and believes X-Forwarded-For only from the public subnets (gateway only)', () => {
      if (name === 'api-gateway') {
        expect(env.HTTP_TLS).toBe('true');
        expect(env.TRUSTED_PROXY_CIDRS).toBe(zoneSubnetCidrs(spec, environment).public.join(','));
      } else {
        expect([env.HTTP_TLS, env.TRUSTED_PROXY_CIDRS]).toEqual([undefined, undefined]);
      }
    });

    it('admits exactly its callers\' identities', () => {
      if (name === 'api-gateway') expect(env.GRPC_ALLOWED_PEERS).toBeUndefined();
      else expect(env.GRPC_ALLOWED_PEERS).toBe(callersOf(spec, name).join(','));
    });

    it('serves gRPC through a headless Service (the gateway: a ClusterIP Service for the target group)', () => {
      const svc = findObject(objects, 'Service', name);
      if (name === 'api-gateway') expect(svc.spec.type).toBe('ClusterIP');
      else expect(svc.spec.clusterIP).toBe('None');
      expect(svc.spec.ports.map((p: any) => p.port)).toEqual([service.port, service.healthPort]);
    });

    it('wires its data stores from the spec, Vault and the deploy-time endpoints', () => {
      const annotations = deployment.spec.template.metadata.annotations;
      const injected = Object.keys(annotations).filter((k) => k.startsWith('vault.hashicorp.com/agent-inject-secret-')).sort();
      const expected = [
        ...(kinds.includes('database') ? ['database-password'] : []),
        ...(kinds.includes('cache') ? ['redis-password'] : []),
        ...(kinds.includes('broker') ? ['kafka-password'] : []),
        ...(kinds.includes('payment-provider') ? ['stripe-secret-key'] : []),
        ...(name === 'auth-service' ? ['key-encryption-key'] : []),
      ].map((f) => `vault.hashicorp.com/agent-inject-secret-${f}`).sort();
      expect(injected).toEqual(expected);
      expect(annotations['vault.hashicorp.com/role']).toBe(name);
      if (kinds.includes('database')) {
        expect(env).toMatchObject({
          DATABASE_HOST: 'pgbouncer.pgbouncer.svc.cluster.local',
          DATABASE_PORT: String(spec.dataTier.pgbouncer.port),
          DATABASE_NAME: serviceByName(spec, name).database?.name,
          DATABASE_PASSWORD_FILE: '/vault/secrets/database-password',
        });
      } else {
        expect(env.DATABASE_HOST).toBeUndefined();
      }
      expect(env.REDIS_HOST !== undefined).toBe(kinds.includes('cache'));
      if (kinds.includes('cache')) expect(env.REDIS_HOST).toEqual({ configMapKeyRef: { name: 'data-endpoints', key: 'REDIS_HOST' } });
      expect(env.KAFKA_BROKERS !== undefined).toBe(kinds.includes('broker'));
      expect(env.DATABASE_READ_HOST).toBe(name === 'user-service' ? 'pgbouncer-reader.pgbouncer.svc.cluster.local' : undefined);
    });

    it('gets the payment provider\'s API base from the spec and its secret key from Vault, only with that secret kind', () => {
      const annotations = deployment.spec.template.metadata.annotations;
      if (kinds.includes('payment-provider')) {
        expect(env.STRIPE_API_BASE).toBe(spec.workloads.paymentProvider.apiBase);
        expect(env.STRIPE_SECRET_KEY_FILE).toBe('/vault/secrets/stripe-secret-key');
        expect(annotations['vault.hashicorp.com/agent-inject-secret-stripe-secret-key']).toBe(`kv/data/services/${name}/stripe`);
        expect(annotations['vault.hashicorp.com/agent-inject-template-stripe-secret-key'])
          .toBe(`{{- with secret "kv/data/services/${name}/stripe" -}}{{ .Data.data.secret_key }}{{- end -}}`);
      } else {
        expect([env.STRIPE_API_BASE, env.STRIPE_SECRET_KEY_FILE]).toEqual([undefined, undefined]);
        expect(Object.values<string>(annotations).some((v) => v.includes('/stripe'))).toBe(false);
      }
    });

    it('lets in only its callers (and, for the gateway, only the load balancer) plus Prometheus', () => {
      const ingress = findObject(objects, 'NetworkPolicy', `${name}-ingress`).spec.ingress;
      const peers = ingress.flatMap((rule: any) => rule.from);
      const namespaces = peers.filter((p: any) => p.namespaceSelector).map((p: any) => p.namespaceSelector.matchLabels['kubernetes.io/metadata.name']);
      expect(namespaces.sort()).toEqual([...callersOf(spec, name), spec.clusterAddons.prometheus.namespace].sort());
      const blocks = peers.filter((p: any) => p.ipBlock).map((p: any) => p.ipBlock.cidr);
      // The DMZ: the load balancer's subnets, and the DMZ subnets where the Client VPN's interfaces are.
      const zones = zoneSubnetCidrs(spec, environment);
      expect(blocks).toEqual(service.zone === 'dmz' ? [...zones.public, ...zones.dmz] : []);
    });
  });
});

describe('payment-service -> order-service (GetOrder before charging)', () => {
  const charts = renderEnvironment('production');
  const envOf = (name: string) => Object.fromEntries(findObject(charts[name]!, 'Deployment', name).spec.template.spec.containers[0].env
    .map((e: any) => [e.name, e.value]));

  it('dials order-service and is admitted by it, next to the gateway', () => {
    expect(serviceByName(spec, 'payment-service').calls).toEqual(['order-service']);
    const orderService = spec.services.find((s) => s.name === 'order-service')!;
    expect(envOf('payment-service').ORDER_SERVICE_ADDR).toBe(`dns:///order-service.order-service.svc.cluster.local:${orderService.port}`);
    expect(envOf('order-service').GRPC_ALLOWED_PEERS).toBe('api-gateway,payment-service');
    const ingress = findObject(charts['order-service']!, 'NetworkPolicy', 'order-service-ingress').spec.ingress as any[];
    const fromPayment = ingress.find((r) => r.from.some((p: any) => p.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] === 'payment-service'));
    expect(fromPayment.ports).toEqual([{ protocol: 'TCP', port: orderService.port }]);
  });

  it('is not called back: order-service gets no PAYMENT_SERVICE_ADDR and no egress to payment-service', () => {
    expect(envOf('order-service').PAYMENT_SERVICE_ADDR).toBeUndefined();
    const egress = findObject(charts['order-service']!, 'NetworkPolicy', 'order-service-egress').spec.egress as any[];
    expect(JSON.stringify(egress)).not.toContain('payment-service');
  });
});
