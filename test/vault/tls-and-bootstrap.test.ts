/**
 * Vault's server certificate as issued by vault/tls/issue.sh (real openssl, the generated
 * extension file), and vault/bootstrap.sh's use of the generated files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { vaultAddress } from '../../lib/spec/topology';
import { loadPlatformSpec } from '../../lib/spec';
import { vaultConfigFiles } from '../../lib/vault/config-as-code';

const spec = loadPlatformSpec();
const root = path.join(__dirname, '..', '..');
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

describe('vault/tls/issue.sh', () => {
  let dir: string;
  let cert: X509Certificate;
  let ca: X509Certificate;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-tls-'));
    // The CA as docs/vault.md makes it.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
      '-subj', '/CN=test vault CA', '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.pem')], { stdio: 'pipe' });
    execFileSync(path.join(root, 'vault', 'tls', 'issue.sh'), [path.join(dir, 'ca.pem'), path.join(dir, 'ca.key'), path.join(dir, 'out')], { stdio: 'pipe' });
    cert = new X509Certificate(fs.readFileSync(path.join(dir, 'out', 'vault.pem')));
    ca = new X509Certificate(fs.readFileSync(path.join(dir, 'ca.pem')));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names the in-cluster address the injector and cert-manager dial', () => {
    const host = new URL(vaultAddress(spec)).hostname;
    expect(host).toBe('vault.vault.svc.cluster.local');
    expect(cert.checkHost(host)).toBe(host);
  });

  it("names both regions' internal NLBs and loopback, and nothing broader", () => {
    expect(cert.checkHost('internal-platform-production-vault-0123456789.elb.us-east-1.amazonaws.com')).toBeDefined();
    expect(cert.checkHost('internal-platform-production-vault-s-0123456789.elb.us-west-2.amazonaws.com')).toBeDefined();
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('vault.other.svc.cluster.local')).toBeUndefined();
    expect(cert.checkHost('a.b.elb.us-east-1.amazonaws.com')).toBeUndefined();
  });

  it('is a server (not CA) certificate signed by the CA, with a private key only its owner reads', () => {
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(fs.statSync(path.join(dir, 'out', 'vault.key')).mode & 0o077).toBe(0);
  });
});

describe('vault/bootstrap.sh', () => {
  const script = fs.readFileSync(path.join(root, 'vault', 'bootstrap.sh'), 'utf8');

  it('is valid bash', () => {
    expect(() => execFileSync('bash', ['-n', path.join(root, 'vault', 'bootstrap.sh')], { stdio: 'pipe' })).not.toThrow();
  });

  it('applies every generated file (the TLS extensions are for issue.sh)', () => {
    for (const file of Object.keys(vaultConfigFiles(spec))) {
      const relative = path.relative('vault', file);
      if (relative.startsWith('policies/')) expect(script).toContain('policies/*.hcl');
      else if (relative.startsWith('tls/')) expect(fs.readFileSync(path.join(root, 'vault', 'tls', 'issue.sh'), 'utf8')).toContain(path.basename(relative));
      else expect({ file, used: script.includes(relative) }).toEqual({ file, used: true });
    }
  });

  it('reads only parameters bootstrap.json has', () => {
    const params = JSON.parse(fs.readFileSync(path.join(root, 'vault', 'bootstrap.json'), 'utf8'));
    const queries = [...script.matchAll(/param '?(\.[A-Za-z.[\]]+)'?\)/g)].map((m) => m[1]!);
    expect(queries.length).toBeGreaterThan(5);
    for (const query of queries) {
      const out = execFileSync('jq', ['-e', query], { input: JSON.stringify(params) }).toString().trim();
      expect({ query, empty: out === '' || out === 'null' }).toEqual({ query, empty: false });
    }
  });

  describe('operator secrets (the Stripe secret key)', () => {
    const params = JSON.parse(fs.readFileSync(path.join(root, 'vault', 'bootstrap.json'), 'utf8'));
    const secrets: Array<{ path: string; field: string; pattern: string; fileVariable: string }> = params.operatorSecrets;
    /** bash's own `[[ =~ ]]`, as bootstrap.sh tests a value. */
    const bashMatches = (value: string, pattern: string) =>
      spawnSync('bash', ['-c', '[[ "$1" =~ $2 ]]', 'match', value, pattern]).status === 0;

    it('lists the Stripe key of payment-service and reads it, with its file variable, from bootstrap.json', () => {
      expect(secrets.map((s) => [s.path, s.field, s.fileVariable])).toEqual([
        ['services/payment-service/stripe', 'secret_key', 'PAYMENT_SERVICE_STRIPE_SECRET_KEY_FILE'],
      ]);
      expect(script).toContain("jq -c '.operatorSecrets[]' bootstrap.json");
      expect(script).toContain('PAYMENT_SERVICE_STRIPE_SECRET_KEY_FILE');
    });

    it('accepts only values shaped like a Stripe secret key: never a placeholder or a publishable key', () => {
      for (const { pattern } of secrets) {
        for (const key of ['sk_live_51H8abcdefGHIJKLmnop', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc', 'rk_live_0123456789abcdefXYZ']) {
          expect({ key, accepted: bashMatches(key, pattern) }).toEqual({ key, accepted: true });
        }
        for (const key of ['', 'changeme', 'placeholder', 'sk_live_', 'sk_live_short', 'pk_live_51H8abcdefGHIJKLmnop', 'sk_live_51H8abcdefGHIJKLmnop\nx', ' sk_live_51H8abcdefGHIJKLmnop']) {
          expect({ key, accepted: bashMatches(key, pattern) }).toEqual({ key, accepted: false });
        }
      }
    });

    it('writes a key only from the operator\'s file, only if absent (-cas=0, via stdin), and otherwise fails printing the command', () => {
      const section = script.slice(script.indexOf('missing_secrets=()'), script.indexOf("done < <(jq -c '.operatorSecrets[]'"));
      expect(section.length).toBeGreaterThan(0);
      // The one write: the operator's value on stdin, only when the entry does not exist yet.
      expect(section.split('\n').filter((line) => line.includes('vault kv put'))).toEqual([
        '    printf \'%s\' "${value}" | vault kv put -mount="${kv_mount}" -cas=0 "${path}" "${field}=-" >/dev/null',
      ]);
      expect(section).toContain('if [[ -z "${current}" && -n "${!from:-}" ]]; then');
      expect(script).toMatch(/if \[\[ ! "\$\{value\}" =~ \$\{pattern\} \]\]; then[\s\S]*?exit 1/);
      // Missing secrets fail the run at its very end, after everything else is applied.
      const tail = script.slice(script.lastIndexOf('missing_secrets[@]'));
      expect(tail).toContain('vault kv put -mount=${kv_mount} ${path}');
      expect(tail.trimEnd().endsWith('exit 1\nfi')).toBe(true);
    });
  });

  it('uses static database roles, never dynamic credentials', () => {
    expect(script).toContain('database/static-roles.json');
    expect(script).not.toMatch(/database\/roles\/|database\/creds\//);
  });
});
