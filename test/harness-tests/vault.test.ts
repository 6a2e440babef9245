import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { loadPlatformSpec } from '../../lib/spec';
import { startVault, VAULT_VERSION, type VaultServer } from '../harness';

let vault: VaultServer;

beforeAll(async () => {
  vault = await startVault();
}, 120000);

afterAll(async () => {
  await vault?.dispose();
});

describe('startVault', () => {
  test('builds and runs the Vault release the nodes install (lib/spec vault.version)', async () => {
    expect(VAULT_VERSION).toBe(`v${loadPlatformSpec().vault.version}`);
    const status = (await vault.request('GET', 'sys/seal-status', { token: '' })).body;
    expect(status).toMatchObject({ initialized: true, sealed: false, version: loadPlatformSpec().vault.version, storage_type: 'file' });
  });

  test('serves TLS on loopback that only the test CA verifies', async () => {
    expect(vault.address).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const untrusted = new Promise((resolve, reject) => {
      request(`${vault.address}/v1/sys/health`, (res) => resolve(res.statusCode)).on('error', reject).end();
    });
    await expect(untrusted).rejects.toThrow(/self-signed|unable to verify|certificate/);
    expect((await vault.request('GET', 'sys/health')).status).toBe(200);
  });

  test('gives a root token, and a CLI environment for it', async () => {
    expect((await vault.request('GET', 'auth/token/lookup-self')).body.data.policies).toEqual(['root']);
    const env = vault.env();
    expect(env).toMatchObject({ VAULT_ADDR: vault.address, VAULT_CACERT: vault.caFile, VAULT_TOKEN: vault.rootToken });
    expect(env.PATH!.split(':')[0]).toBe(vault.binDir);
  });

  test('keeps its data across restart() and comes back unsealed', async () => {
    await vault.request('POST', 'sys/mounts/kv', { body: { type: 'kv', options: { version: '2' } } });
    await vault.request('POST', 'kv/data/probe', { body: { data: { value: 'kept' } } });
    await vault.restart();
    expect((await vault.request('GET', 'kv/data/probe')).body.data.data).toEqual({ value: 'kept' });
  });

  test('dispose stops it and deletes its folder', async () => {
    const other = await startVault();
    expect(existsSync(other.dir)).toBe(true);
    expect(readFileSync(other.logFile, 'utf8')).toContain('Vault server started');
    await other.dispose();
    expect(existsSync(other.dir)).toBe(false);
    await expect(other.request('GET', 'sys/health')).rejects.toThrow(/ECONNREFUSED/);
  });
});
