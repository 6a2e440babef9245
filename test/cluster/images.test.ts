// The local cluster's image builder reads the services' Dockerfiles (scripts/local-cluster/images.ts):
// what it takes from them, and that it refuses what it cannot apply rather than skipping it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlatformSpec } from '../../lib/spec';
import { BASE_STAND_INS, dockerfileRecipe } from '../../scripts/local-cluster/images';

const spec = loadPlatformSpec();
const dir = mkdtempSync(join(tmpdir(), 'platform-test-dockerfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function dockerfile(text: string): string {
  const file = join(dir, `Dockerfile-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return file;
}

describe('services\' images follow their Dockerfiles', () => {
  test.each(spec.services.map((s) => s.name))('%s: the Dockerfile\'s user, entrypoint, environment and working dir on the base\'s stand-in', (name) => {
    const recipe = dockerfileRecipe(join('services', name, 'Dockerfile'), `example/${name}:test`);
    expect(recipe.base).toBe(BASE_STAND_INS['gcr.io/distroless/nodejs24-debian12:nonroot']!.name);
    expect(recipe.config).toEqual({
      entrypoint: ['/nodejs/bin/node', '/app/main.js'],
      user: '65532:65532',
      workingDir: '/app',
      env: { NODE_ENV: 'production', NODE_OPTIONS: '--enable-source-maps' },
    });
  });

  test('an instruction the builder does not apply fails the build, naming it', () => {
    const file = dockerfile('FROM gcr.io/distroless/nodejs24-debian12:nonroot\nRUN echo hi\nENTRYPOINT ["/nodejs/bin/node"]\n');
    expect(() => dockerfileRecipe(file, 'x')).toThrow(/RUN is not an instruction this builder applies/);
  });

  test('a base with no stand-in fails the build, naming it', () => {
    const file = dockerfile('FROM docker.io/library/node:24\nENTRYPOINT ["node"]\n');
    expect(() => dockerfileRecipe(file, 'x')).toThrow(/FROM docker.io\/library\/node:24: no stand-in/);
  });

  test('build arguments reach COPY sources; an unknown variable fails', () => {
    const ok = dockerfile('ARG SERVICE=a\nFROM gcr.io/distroless/nodejs24-debian12:nonroot\nCOPY --chown=0:0 build/services/${SERVICE}/ /app/\nENTRYPOINT ["/nodejs/bin/node"]\n');
    expect(() => dockerfileRecipe(ok, 'x', { SERVICE: 'user-service' })).not.toThrow();
    const bad = dockerfile('FROM gcr.io/distroless/nodejs24-debian12:nonroot\nCOPY build/${NOPE}/ /app/\nENTRYPOINT ["/nodejs/bin/node"]\n');
    expect(() => dockerfileRecipe(bad, 'x')).toThrow(/\$NOPE is not an ARG/);
  });
});
