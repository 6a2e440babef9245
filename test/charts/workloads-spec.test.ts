import { problemsAfter, serviceEntry } from '../helpers/spec';

// The spec's workloads section: bad values fail at load with the field named.
describe('workloads spec', () => {
  it('requires resources and an SLO in every service entry', () => {
    expect(problemsAfter((d) => { delete (serviceEntry(d, 'order-service') as { resources?: unknown }).resources; }))
      .toContain('services.4.resources');
    expect(problemsAfter((d) => { delete (serviceEntry(d, 'order-service') as { slo?: unknown }).slo; }))
      .toContain('services.4.slo');
  });

  it('rejects requests above limits', () => {
    expect(problemsAfter((d) => { serviceEntry(d, 'api-gateway').resources.requests.cpu = '2'; }))
      .toContain('services.0.resources.requests.cpu = "2": must be <= limits.cpu (1)');
  });

  it('rejects a single PgBouncer replica', () => {
    expect(problemsAfter((d) => { d.workloads.pgbouncer.replicas = 1; })).toContain('workloads.pgbouncer.replicas = 1: must be >= 2');
  });

  it('rejects server pools larger than each pod\'s share of the client connection cap', () => {
    expect(problemsAfter((d) => { d.workloads.pgbouncer.maxDbConnections = 70; }))
      .toContain('workloads.pgbouncer.maxDbConnections = 70: times the 4 databases (280) must be <= each PgBouncer pod\'s share of dataTier.pgbouncer.maxClientConnections (250)');
    expect(problemsAfter((d) => { d.dataTier.pgbouncer.maxClientConnections = 3; }))
      .toContain('dataTier.pgbouncer.maxClientConnections = 3: is shared by 2 pools x 2 replicas: must be at least one per PgBouncer pod');
  });

  it('rejects a max_connections the pools and the reserved connections do not fit in', () => {
    // 2 replicas x 4 databases x 50 + 20 reserved = 420.
    expect(problemsAfter((d) => { d.environments.staging.database.maxConnections = 400; }))
      .toContain('environments.staging.database.maxConnections = 400: must be >= PgBouncer\'s server connections to one instance (2 replicas x 200) + dataTier.postgres.reservedConnections (20) = 420');
  });

  it('pairs a database with its credentials, one database per service', () => {
    expect(problemsAfter((d) => { serviceEntry(d, 'api-gateway').database = { name: 'gateway', replicaReads: true }; }))
      .toContain('services.0.database = {"name":"gateway","replicaReads":true}: has no \'database\' in api-gateway\'s secrets: without credentials it cannot log in');
    expect(problemsAfter((d) => { delete serviceEntry(d, 'order-service').database; }))
      .toContain('services.4.secrets = ["database","broker"]: has \'database\' but order-service has no database (services[].database)');
    expect(problemsAfter((d) => { serviceEntry(d, 'order-service').database!.name = 'payments'; }))
      .toContain('services.4.database.name = "payments": is also payment-service\'s database: one database per service');
  });

  it('rejects an unpinned image', () => {
    expect(problemsAfter((d) => { d.workloads.pgbouncer.image = 'edoburu/pgbouncer'; })).toContain('workloads.pgbouncer.image');
  });

  it('rejects calls to unknown services, to itself, and twice to one service', () => {
    expect(problemsAfter((d) => { serviceEntry(d, 'user-service').calls = ['billing-service']; }))
      .toContain('services.2.calls.0 = "billing-service": is not a service of the spec');
    expect(problemsAfter((d) => { serviceEntry(d, 'user-service').calls = ['user-service']; }))
      .toContain('services.2.calls.0 = "user-service": a service does not call itself over the network');
    expect(problemsAfter((d) => { serviceEntry(d, 'payment-service').calls.push('order-service'); }))
      .toContain('services.3.calls.1 = "order-service": payment-service already calls it');
  });

  it('rejects a renewal point after expiry and an exporter port clash', () => {
    expect(problemsAfter((d) => { d.workloads.certificates.renewBefore = 'PT800H'; }))
      .toContain('workloads.certificates.renewBefore = "PT800H": must be shorter than duration (PT720H)');
    expect(problemsAfter((d) => { d.workloads.pgbouncer.exporterPort = 9003; }))
      .toContain('workloads.pgbouncer.exporterPort = 9003: port clash: also used by payment-service');
  });

  it.each<[string, string, string]>([
    ['plain http', 'http://api.stripe.com', 'must be an https URL (got http)'],
    ['not a URL', 'api.stripe.com', 'must be an https URL such as https://api.stripe.com'],
    ['a path', 'https://api.stripe.com/v1', 'must be an origin only'],
    ['a trailing slash', 'https://api.stripe.com/', 'must be an origin only'],
    ['credentials', 'https://sk_live_x@api.stripe.com', 'must not carry credentials'],
    ['an IP address', 'https://54.187.174.169', 'must name the provider by DNS name'],
  ])('rejects a payment provider API base with %s, naming the field', (_label, apiBase, message) => {
    expect(problemsAfter((d) => { d.workloads.paymentProvider.apiBase = apiBase; }))
      .toContain(`workloads.paymentProvider.apiBase = ${JSON.stringify(apiBase)}: ${message}`);
  });

  it('requires the payment provider', () => {
    expect(problemsAfter((d) => { delete (d.workloads as any).paymentProvider; })).toContain('workloads.paymentProvider');
  });
});
