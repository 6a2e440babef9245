/** Logger request context, metrics buckets and the signal lifecycle (no servers needed). */
import type { Logger as PinoLogger } from 'pino';
import { Writable } from 'node:stream';
import { Metrics, LATENCY_BUCKETS_SECONDS, createLogger, runUntilSignal, runWithRequestContext, callMetadata } from '../../../services/shared/src';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: createLogger({ service: 'svc', level: 'info', destination }), lines };
}

describe('logger', () => {
  test('lines inside a request carry its id and subject; others do not; secrets are redacted', async () => {
    const { logger, lines } = capture();
    logger.info('outside');
    await runWithRequestContext({ requestId: 'r-1', subject: 'u-9' }, async () => {
      await new Promise((r) => setImmediate(r));
      logger.info({ password: 'hunter2' }, 'inside');
    });
    expect(lines[0]).toMatchObject({ service: 'svc', level: 'info', msg: 'outside' });
    expect(lines[0]).not.toHaveProperty('requestId');
    expect(lines[1]).toMatchObject({ requestId: 'r-1', subject: 'u-9', msg: 'inside', password: '[redacted]' });
  });

  test('outgoing call metadata takes the current request context', () => {
    const md = runWithRequestContext({ requestId: 'r-2', subject: 'u-1', roles: ['admin', 'user'] }, () => callMetadata());
    expect(md.get('x-request-id')).toEqual(['r-2']);
    expect(md.get('x-subject')).toEqual(['u-1']);
    expect(md.get('x-roles')).toEqual(['admin,user']);
    expect(callMetadata().get('x-request-id')).toEqual([]);
  });
});

describe('metrics', () => {
  test('the latency histogram has a 0.2 s bucket boundary and the documented labels', async () => {
    expect(LATENCY_BUCKETS_SECONDS).toContain(0.2);
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.grpcServerHandlingSeconds.observe({ grpc_service: 's', grpc_method: 'M', grpc_code: 'OK' }, 0.15);
    metrics.cacheResult('user', 'hit');
    const text = await metrics.registry.metrics();
    expect(text).toContain('grpc_server_handling_seconds_bucket{le="0.2",grpc_service="s",grpc_method="M",grpc_code="OK"} 1');
    expect(text).toContain('grpc_server_handling_seconds_bucket{le="0.1",grpc_service="s",grpc_method="M",grpc_code="OK"} 0');
    expect(text).toContain('cache_requests_total{cache="user",result="hit"} 1');
  });
});

describe('runUntilSignal', () => {
  const signal = 'SIGUSR2' as const;

  test('first signal stops gracefully and exits 0', async () => {
    const { logger } = capture();
    const exits: number[] = [];
    let stops = 0;
    const { stopped } = runUntilSignal({ stop: async () => void stops++ }, logger, { graceMs: 1000, signals: [signal], exit: (c) => exits.push(c) });
    process.emit(signal, signal);
    expect(await stopped).toBe(0);
    expect(exits).toEqual([0]);
    expect(stops).toBe(1);
    expect(process.listenerCount(signal)).toBe(0);
  });

  test('a second signal during the stop exits 1 at once', async () => {
    const { logger, lines } = capture();
    const exits: number[] = [];
    let release!: () => void;
    const { stopped } = runUntilSignal({ stop: () => new Promise<void>((r) => (release = r)) }, logger, { graceMs: 60_000, signals: [signal], exit: (c) => exits.push(c) });
    process.emit(signal, signal);
    process.emit(signal, signal);
    expect(await stopped).toBe(1);
    expect(exits).toEqual([1]);
    expect(lines.some((l) => l.msg === 'second signal: exiting now')).toBe(true);
    release();
  });

  test('with an endpoint drain it keeps serving for that long, then stops', async () => {
    jest.useFakeTimers();
    try {
      const { logger, lines } = capture();
      const exits: number[] = [];
      let stops = 0;
      const { stopped } = runUntilSignal({ stop: async () => void stops++ }, logger, { graceMs: 1000, endpointDrainMs: 5000, signals: [signal], exit: (c) => exits.push(c) });
      process.emit(signal, signal);
      expect(lines.find((l) => l.msg === 'shutting down')).toMatchObject({ endpointDrainMs: 5000, graceMs: 1000 });
      jest.advanceTimersByTime(4999);
      expect(stops).toBe(0);
      expect(exits).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(stops).toBe(1);
      expect(await stopped).toBe(0);
      expect(exits).toEqual([0]);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a second signal during the endpoint drain exits 1 at once without stopping', async () => {
    jest.useFakeTimers();
    try {
      const { logger } = capture();
      const exits: number[] = [];
      let stops = 0;
      const { stopped } = runUntilSignal({ stop: async () => void stops++ }, logger, { graceMs: 1000, endpointDrainMs: 5000, signals: [signal], exit: (c) => exits.push(c) });
      process.emit(signal, signal);
      process.emit(signal, signal);
      expect(await stopped).toBe(1);
      jest.advanceTimersByTime(10_000);
      expect(stops).toBe(0);
      expect(exits).toEqual([1]);
      expect(process.listenerCount(signal)).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a failing stop exits 1', async () => {
    const { logger } = capture();
    const exits: number[] = [];
    const { stopped } = runUntilSignal({ stop: async () => { throw new Error('pool close failed'); } }, logger, { graceMs: 1000, signals: [signal], exit: (c) => exits.push(c) });
    process.emit(signal, signal);
    expect(await stopped).toBe(1);
    expect(exits).toEqual([1]);
  });
});

describe('start-up helpers', () => {
  test('Cleanups runs every step newest first, logs a failing one and goes on, and runs once', async () => {
    const { Cleanups } = await import('../../../services/shared/src/startup');
    const warned: unknown[] = [];
    const logger = { warn: (obj: unknown) => warned.push(obj) } as unknown as PinoLogger;
    const order: string[] = [];
    const cleanups = new Cleanups(logger);
    cleanups.push(() => { order.push('health'); });
    cleanups.push(async () => { order.push('postgres'); throw new Error('already closed'); });
    cleanups.push(() => { order.push('grpc'); });
    await cleanups.run();
    await cleanups.run();
    expect(order).toEqual(['grpc', 'postgres', 'health']);
    expect(warned).toHaveLength(1);
  });

  test('startupGate keeps the started check failing until it is marked', async () => {
    const { startupGate } = await import('../../../services/shared/src/startup');
    const checks = new Map<string, () => Promise<void>>();
    const markStarted = startupGate({ addReadinessCheck: (name, check) => { checks.set(name, check as () => Promise<void>); } });
    await expect(checks.get('started')!()).rejects.toThrow('starting');
    markStarted();
    await expect(checks.get('started')!()).resolves.toBeUndefined();
  });

  test('gracefulStop leaves the Service, drains within the grace, then cleans up, once', async () => {
    const { Cleanups, gracefulStop } = await import('../../../services/shared/src/startup');
    const order: string[] = [];
    const cleanups = new Cleanups({ warn: () => undefined } as unknown as PinoLogger);
    cleanups.push(() => { order.push('pool closed'); });
    const stop = gracefulStop({
      health: { setDraining: () => { order.push('not ready'); } },
      server: { drain: async (graceMs) => { order.push(`drained within ${graceMs} ms`); } },
      graceMs: 15_000,
      cleanups,
    });
    const first = stop();
    expect(stop()).toBe(first);
    await first;
    expect(order).toEqual(['not ready', 'drained within 15000 ms', 'pool closed']);
  });
});
