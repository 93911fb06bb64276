import type { Keyring } from './secrets.ts';

// Variables whose names say they hold a secret (sip_password, auth_key, …): masked wherever they are
// shown, and encrypted at rest like the device passwords Digest needs.
const SECRET_VAR = /pass|secret|pwd|pin$|token|key$/i;
// A stored value that is a sealed box. Values written before encryption existed have no prefix: they are
// read as they are, and sealed when the server starts (DeviceRegistry.sealStoredSecrets).
const SEALED = 'aps-sealed:';

export function isSecretVar(name: string): boolean {
  return SECRET_VAR.test(name);
}

/** Variables as shown to operators: values of secret-looking names are masked. */
export function maskVars(vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, isSecretVar(k) && v ? '********' : v]));
}

/**
 * The variables as stored: secret ones sealed. A value equal to what `previous` (as stored) already seals
 * keeps that box, so writing an unchanged device writes the same bytes and changes nothing.
 */
export function sealVars(keys: Keyring, vars: Record<string, string>, previous: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (!isSecretVar(k) || v === '') out[k] = v;
    else if (previous[k]?.startsWith(SEALED) && keys.decrypt(previous[k].slice(SEALED.length)) === v) out[k] = previous[k];
    else out[k] = SEALED + keys.encrypt(v);
  }
  return out;
}

/** Whether stored variables still hold a secret in clear (written before sealing existed). */
export function hasUnsealed(vars: Record<string, string>): boolean {
  return Object.entries(vars).some(([k, v]) => isSecretVar(k) && v !== '' && !v.startsWith(SEALED));
}

/** The variables in clear. A box that does not open (another data folder's key) reads as empty. */
export function openVars(keys: Keyring, vars: Record<string, string>): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(vars)) {
    if (!v.startsWith(SEALED)) continue;
    out ??= { ...vars };
    out[k] = keys.decrypt(v.slice(SEALED.length)) ?? '';
  }
  return out ?? vars;
}
