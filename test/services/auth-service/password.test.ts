import { DEFAULT_SCRYPT_PARAMS, PasswordHasher, PasswordHashFormatError } from '../../../services/auth-service/src/password';

// Small parameters keep the unit tests quick; the format and logic are the same at any cost.
const FAST = { N: 2 ** 10, r: 8, p: 1 };

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher(FAST);

  it('encodes parameters, salt and hash in the stored string', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(stored).not.toContain('correct horse');
  });

  it('salts every hash', async () => {
    const [a, b] = await Promise.all([hasher.hash('same password!'), hasher.hash('same password!')]);
    expect(a).not.toEqual(b);
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    await expect(hasher.verify('correct horse battery staple', stored)).resolves.toBe(true);
    await expect(hasher.verify('correct horse battery stapler', stored)).resolves.toBe(false);
    await expect(hasher.verify('', stored)).resolves.toBe(false);
  });

  it('treats canonically equivalent Unicode spellings as the same password', async () => {
    const stored = await hasher.hash('p\u00e4ssword-long-enough');
    await expect(hasher.verify('pa\u0308ssword-long-enough', stored)).resolves.toBe(true);
  });

  it('asks for a rehash when the parameters were raised, and the new hash still verifies', async () => {
    const old = await hasher.hash('upgrade me please');
    const stronger = new PasswordHasher({ N: 2 ** 11, r: 8, p: 2 });
    expect(hasher.needsRehash(old)).toBe(false);
    expect(stronger.needsRehash(old)).toBe(true);
    // The old hash keeps verifying with its own parameters until the upgrade happens.
    await expect(stronger.verify('upgrade me please', old)).resolves.toBe(true);
    const upgraded = await stronger.hash('upgrade me please');
    expect(upgraded.startsWith('scrypt$2048$8$2$')).toBe(true);
    expect(stronger.needsRehash(upgraded)).toBe(false);
    await expect(stronger.verify('upgrade me please', upgraded)).resolves.toBe(true);
  });

  it('rejects malformed stored hashes with an error naming the field', async () => {
    await expect(hasher.verify('x', 'bcrypt$2b$10$abc')).rejects.toThrow(PasswordHashFormatError);
    await expect(hasher.verify('x', 'scrypt$1000$8$1$c2FsdA$aGFzaA')).rejects.toThrow(/password_hash: .*power of two/);
    expect(() => hasher.needsRehash('plain')).toThrow(/^password_hash:/);
  });

  it('burn() does the work of a verification without a stored hash', async () => {
    await expect(hasher.burn('anything at all')).resolves.toBeUndefined();
  });

  it('defaults to an OWASP-equivalent scrypt configuration', () => {
    // OWASP: N=2^15, r=8, p=3 matches the 2^17/8/1 baseline's cost.
    expect(DEFAULT_SCRYPT_PARAMS).toEqual({ N: 2 ** 15, r: 8, p: 3 });
  });
});
