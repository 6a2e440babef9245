/**
 * Writes Vault's configuration as code from the spec (lib/vault/config-as-code.ts
 * `vaultConfigFiles`): policies, Kubernetes auth roles, database static roles and bootstrap SQL,
 * the PKI role, the server certificate's extensions, bootstrap parameters.
 * `npm run vault:config`; test/spec/vault-spec.test.ts fails when the checked-in files drift.
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
