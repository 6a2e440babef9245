// The serving certificate's expiry gauge: read from the file at every scrape, so a renewal that
// cert-manager writes in place shows at the next scrape, and one that never arrives ages out.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CERTIFICATE_EXPIRY_METRIC, Metrics } from '../../../services/shared/src/metrics';
import { createTestCa } from '../../harness';
import type { TestCa } from '../../harness';

let ca: TestCa;
beforeAll(async () => {
  ca = await createTestCa();
});
afterAll(async () => {
  await ca?.dispose();
});

async function expiry(metrics: Metrics): Promise<number | undefined> {
  const json = await metrics.registry.getMetricsAsJSON();
  return json.find((m) => m.name === CERTIFICATE_EXPIRY_METRIC)?.values[0]?.value;
}

it('reports the notAfter of the certificate file, and the renewed one after the file is replaced', async () => {
  const first = await ca.issue({ commonName: 'user-service', notAfter: new Date('2031-01-02T03:04:05Z') });
  const renewed = await ca.issue({ commonName: 'user-service', notAfter: new Date('2031-02-03T04:05:06Z') });
  const served = join(ca.dir, 'served.crt');
  await copyFile(first.certFile, served);
  const metrics = new Metrics({ defaultMetrics: false });
  metrics.watchCertificateExpiry(served);
  metrics.watchCertificateExpiry(served); // a second server of the process: one gauge
  expect(await expiry(metrics)).toBe(Date.parse('2031-01-02T03:04:05Z') / 1000);
  await copyFile(renewed.certFile, served);
  expect(await expiry(metrics)).toBe(Date.parse('2031-02-03T04:05:06Z') / 1000);
});
