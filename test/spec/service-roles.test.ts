/**
 * What the services' entries say about each other (services[].exposes, tokens, generatedKeys):
 * each broken rule is reported at its field, and a spec breaking several lists them all.
 */
import { loadPlatformSpec } from '../../lib/spec';
import type { PlatformSpec } from '../../lib/spec';
import { edgeService, tokenSigner } from '../../lib/spec/topology';
import { problemsAfter } from '../helpers/spec';
import type { Mutable } from '../helpers/spec';

const spec = loadPlatformSpec();
const problems = (edit: (d: Mutable<PlatformSpec>) => void) =>
  problemsAfter(edit).split('\n').filter((line) => line.startsWith('  - ')).map((line) => line.slice(4));
const index = (name: string) => spec.services.findIndex((s) => s.name === name);

describe('the service table says what each service is', () => {
  it('names the edge service and the token signer by field, not by name', () => {
    expect(edgeService(spec)).toMatchObject({ name: 'api-gateway', exposes: 'edge', zone: 'dmz', tokens: 'verify' });
    expect(tokenSigner(spec)).toMatchObject({ name: 'auth-service', exposes: 'grpc' });
    expect(tokenSigner(spec)!.generatedKeys).toEqual([
      { path: 'signing', field: 'keyEncryptionKey', bytes: 32, file: 'key-encryption-key', env: 'AUTH_KEY_ENCRYPTION_KEY_FILE' },
    ]);
    expect(spec.services.filter((s) => s.exposes === 'grpc').map((s) => s.name)).toEqual(['auth-service', 'user-service', 'payment-service', 'order-service']);
  });

  it('a service entry without exposes, tokens or generated keys is a gRPC service with none', () => {
    const data = structuredClone(spec) as Mutable<PlatformSpec>;
    const user = data.services[index('user-service')] as Partial<Mutable<PlatformSpec['services'][number]>>;
    delete user.exposes;
    delete user.generatedKeys;
    const loaded = loadPlatformSpec({ data });
    expect(loaded.services[index('user-service')]).toMatchObject({ exposes: 'grpc', generatedKeys: [] });
    expect(loaded.services[index('user-service')]!.tokens).toBeUndefined();
  });
});

describe('the rules between the service entries', () => {
  const gateway = index('api-gateway');
  const auth = index('auth-service');
  const payment = index('payment-service');

  it('requires an edge service', () => {
    expect(problems((d) => { d.services[gateway]!.exposes = 'grpc'; })).toContain(
      `services = ${JSON.stringify(spec.services.map((s) => s.name))}: has no service with exposes 'edge': the edge's load balancer needs one to front`);
  });

  it('allows one edge service only, in the DMZ, called by no one', () => {
    expect(problems((d) => {
      d.services[auth]!.exposes = 'edge';
      d.services[auth]!.zone = 'dmz';
    })).toEqual(expect.arrayContaining([
      `services.${auth}.exposes = "edge": only one service is the edge (services[${gateway}] api-gateway is)`,
      `services.${gateway}.calls.0 = "auth-service": is the edge service: it serves HTTPS to the load balancer, not gRPC to api-gateway`,
    ]));
    expect(problems((d) => { d.services[gateway]!.zone = 'private'; })).toContain(
      `services.${gateway}.zone = "private": must be dmz: api-gateway is the edge service, and the load balancer reaches the DMZ only`);
  });

  it('scales only gRPC services on latency (the trigger reads the gRPC server histogram)', () => {
    expect(problems((d) => {
      d.services[gateway]!.autoscaling.trigger = { type: 'latency', percentile: 95, thresholdMs: 200, cpuTargetUtilizationPercent: 70 };
    })).toContain(`services.${gateway}.autoscaling.trigger.type = "latency": reads the gRPC server's handling time: api-gateway exposes edge, not grpc`);
  });

  it('gives the token verifiers exactly one signer, which they call for its key set', () => {
    expect(problems((d) => { delete d.services[auth]!.tokens; })).toContain(
      `services.${gateway}.tokens = "verify": api-gateway verifies tokens, but no service signs them (tokens: 'sign')`);
    expect(problems((d) => { d.services[payment]!.tokens = 'sign'; })).toContain(
      `services.${payment}.tokens = "sign": only one service signs the tokens (services[${auth}] auth-service does)`);
    expect(problems((d) => { d.services[gateway]!.calls = ['user-service', 'order-service', 'payment-service']; })).toContain(
      `services.${gateway}.calls = ["user-service","order-service","payment-service"]: must include auth-service: api-gateway verifies tokens with the signer's key set, which it fetches over gRPC`);
  });

  it('keeps the generated keys of a service apart', () => {
    expect(problems((d) => {
      const key = d.services[auth]!.generatedKeys[0]!;
      d.services[auth]!.generatedKeys.push({ ...key, path: 'other', field: 'other' });
    })).toEqual([
      `services.${auth}.generatedKeys.1.file = "key-encryption-key": duplicate generated key file of auth-service`,
      `services.${auth}.generatedKeys.1.env = "AUTH_KEY_ENCRYPTION_KEY_FILE": duplicate generated key env of auth-service`,
    ]);
    expect(problems((d) => { d.services[auth]!.generatedKeys[0]!.env = 'AUTH_KEY'; })).toEqual([
      `services.${auth}.generatedKeys.0.env = "AUTH_KEY": must be an environment variable ending in _FILE`,
    ]);
  });

  it('reports every broken rule of the table at once', () => {
    const found = problems((d) => {
      d.services[gateway]!.exposes = 'grpc';
      d.services[payment]!.tokens = 'sign';
      d.services[auth]!.generatedKeys[0]!.bytes = 8;
    });
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/^services = .*has no service with exposes 'edge'/),
      expect.stringMatching(new RegExp(`^services\\.${payment}\\.tokens = "sign": only one service signs`)),
      `services.${auth}.generatedKeys.0.bytes = 8: must be >= 16 (a key, not a password)`,
    ]));
  });
});
