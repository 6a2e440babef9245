/**
 * Every service ships with a small Dockerfile of the same shape (DESIGN.md §5): the esbuild
 * bundle only, a distroless Node base, a numeric non-root user, nothing written to the root
 * filesystem at run time. No Docker engine runs here, so the files are checked as text.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const servicesDir = path.resolve(__dirname, '../../services');
const services = fs.readdirSync(servicesDir)
  .filter((name) => fs.existsSync(path.join(servicesDir, name, 'src', 'main.ts')))
  .sort();

describe.each(services)('services/%s/Dockerfile', (service) => {
  const file = path.join(servicesDir, service, 'Dockerfile');
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const instructions = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  test('exists', () => expect(text).not.toBe(''));
  test('runs the bundle of this service', () => {
    expect(instructions).toContain(`ARG SERVICE=${service}`);
    expect(instructions).toContain('COPY --chown=0:0 build/services/${SERVICE}/ /app/');
    expect(instructions.at(-1)).toBe('ENTRYPOINT ["/nodejs/bin/node", "/app/main.js"]');
  });
  test('a distroless base and a numeric non-root user', () => {
    const from = instructions.filter((l) => l.startsWith('FROM '));
    expect(from).toEqual(['FROM gcr.io/distroless/nodejs24-debian12:nonroot']);
    expect(instructions).toContain('USER 65532:65532');
  });
  test('builds nothing inside the image (no RUN: the bundle is made by npm run build:services)', () => {
    expect(instructions.filter((l) => l.startsWith('RUN '))).toEqual([]);
  });
});
