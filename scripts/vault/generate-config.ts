/**
 * Writes vault/policies/<service>.hcl and vault/auth/kubernetes-roles.json from the spec.
 * `npx tsx scripts/vault/generate-config.ts`; a test fails when the checked-in files drift.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPlatformSpec } from '../../lib/spec';
import { vaultConfigFiles } from '../../lib/vault/config-as-code';

const root = path.join(__dirname, '..', '..');
for (const [file, content] of Object.entries(vaultConfigFiles(loadPlatformSpec()))) {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), content);
  console.log(`wrote ${file}`);
}
