import { randomBytes, scryptSync } from 'node:crypto';

/** A device password hash as APS wrote them before keyed hashes (scrypt N=16384, r=8, p=1): old databases hold these. */
export function legacyScryptHash(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, { N: 16384, r: 8, p: 1 });
  return ['scrypt', 16384, 8, 1, salt.toString('base64'), hash.toString('base64')].join('$');
}
