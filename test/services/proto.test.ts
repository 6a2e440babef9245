/**
 * The gRPC contracts: `buf lint` passes and the checked-in generated code in services/proto/gen
 * is exactly what `npm run proto:generate` produces from the .proto files (no hand edits, no
 * forgotten regeneration).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const protoDir = path.join(root, 'services/proto');
const buf = path.join(root, 'node_modules/.bin/buf');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe('services/proto', () => {
  test('buf lint is clean', () => {
    expect(() => execFileSync(buf, ['lint'], { cwd: protoDir, stdio: 'pipe' })).not.toThrow();
  });

  test('generated code is up to date', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'proto-gen-'));
    try {
      execFileSync(buf, ['generate', '--output', out], { cwd: protoDir, stdio: 'pipe' });
      const fresh = path.join(out, 'gen');
      const checkedIn = path.join(protoDir, 'gen');
      expect(filesUnder(checkedIn)).toEqual(filesUnder(fresh));
      for (const file of filesUnder(fresh)) {
        expect([file, fs.readFileSync(path.join(checkedIn, file), 'utf8')])
          .toEqual([file, fs.readFileSync(path.join(fresh, file), 'utf8')]);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test('every service of the spec that has a contract is versioned under <name>/v1', () => {
    const packages = fs.readdirSync(protoDir).filter((d) => fs.existsSync(path.join(protoDir, d, 'v1')));
    expect(packages.sort()).toEqual(['auth', 'order', 'payment', 'user']);
  });
});
