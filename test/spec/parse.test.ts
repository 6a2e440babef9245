import {
  addressCount, cidrsOverlap, cpuMillis, durationSeconds, formatIpv4, memoryMiB, parseCidr, parseDuration, parseDurationSeconds,
} from '../../lib/spec';

describe('ISO-8601 durations', () => {
  it.each([
    ['PT1H', 3600], ['PT30M', 1800], ['PT0S', 0], ['PT720H', 720 * 3600], ['PT1H30M15S', 5415],
  ])('%s is %d s', (iso, seconds) => {
    expect(durationSeconds(iso)).toBe(seconds);
    expect(parseDurationSeconds(iso)).toBe(seconds);
  });

  it('keeps which parts were written, so PT24H is whole hours and PT1H30M is not', () => {
    expect(parseDuration('PT24H')).toEqual({ hours: 24, minutes: undefined, seconds: undefined });
    expect(parseDuration('PT1H30M')).toEqual({ hours: 1, minutes: 30, seconds: undefined });
  });

  it.each(['1 hour', 'P1D', 'PT1.5H', 'pt1h'])('rejects %s', (iso) => {
    expect(parseDuration(iso)).toBeUndefined();
    expect(parseDurationSeconds(iso)).toBeUndefined();
    expect(() => durationSeconds(iso)).toThrow(`not a PT duration: ${iso}`);
  });
});

describe('IPv4 CIDR blocks', () => {
  it('parses a block to its base address and prefix', () => {
    expect(parseCidr('10.0.0.0/16')).toEqual({ base: 10 * 2 ** 24, prefix: 16 });
    expect(formatIpv4(parseCidr('172.16.4.0/22')!.base)).toBe('172.16.4.0');
    expect(addressCount(16)).toBe(65536);
  });

  it.each(['10.0.0.1/16', '10.0.0.0/33', '256.0.0.0/8', '10.0.0.0', 'fd00::/8'])('rejects %s', (value) => {
    expect(parseCidr(value)).toBeUndefined();
  });

  it('finds overlaps, and only those', () => {
    const overlap = (a: string, b: string) => cidrsOverlap(parseCidr(a)!, parseCidr(b)!);
    expect(overlap('10.0.0.0/16', '10.0.128.0/20')).toBe(true);
    expect(overlap('10.0.0.0/16', '10.1.0.0/16')).toBe(false);
  });
});

describe('Kubernetes quantities', () => {
  it('reads CPU in millicores and memory in MiB', () => {
    expect(['250m', '1', '1.5'].map(cpuMillis)).toEqual([250, 1000, 1500]);
    expect(['256Mi', '2Gi'].map(memoryMiB)).toEqual([256, 2048]);
  });
});
