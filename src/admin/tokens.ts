import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Keyring } from '../devices/secrets.ts';
import { ApsError } from '../errors.ts';
import type { AdminScope, AdminTokenRecord, Store } from '../store/index.ts';
import type { AuditLog } from './audit.ts';

export type { AdminScope, AdminTokenRecord };

/** Who an admin request is: a token's name and what it may do (`read`: GET only; `full`: everything). */
export interface AdminIdentity {
  name: string;
  scope: AdminScope;
}

/** The name the configured token (`adminToken`, APS_ADMIN_TOKEN, or data/admin.token) answers to. */
export const CONFIG_TOKEN_NAME = 'config';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// Written last_used_at at most this often per token: an API polled every second costs no write per request.
const TOUCH_EVERY_MS = 60_000;

/** The token `aps serve` generated into the data folder, when it is usable (16 characters or more). */
export function readTokenFile(dataDir: string): string | undefined {
  const file = join(dataDir, 'admin.token');
  if (!existsSync(file)) return undefined;
  const saved = readFileSync(file, 'utf8').trim();
  return saved.length >= 16 ? saved : undefined;
}

export function assertScope(scope: string): AdminScope {
  if (scope !== 'read' && scope !== 'full') throw new ApsError('bad_request', `scope must be read or full, not "${scope}"`);
  return scope;
}

/**
 * Named admin tokens beside the configured one. A token is 256 random bits (`aps_` + base64url), shown once
 * at creation; the store keeps only HMAC-SHA256(token) under a key derived from data/secret.key. A fast hash
 * is right here, unlike for passwords (scrypt): nobody can guess a 256-bit random value, so there is nothing
 * for a slow hash to slow down, and every admin request checks one. Keyed, so a copy of the database alone
 * cannot even confirm a token someone holds. The lookup is by that hash: its timing says nothing usable
 * without the key.
 */
export class AdminTokens {
  private readonly store: Store;
  private readonly keys: Keyring;
  private readonly audit: AuditLog;
  private readonly configToken: () => string | undefined;
  private configDigest: Buffer | undefined;
  private readonly touched = new Map<string, number>();
  /** Revocations made by this process: long-lived answers (the event stream) check their token again when it moves. */
  revocations = 0;

  /** `configToken` is read when first needed (the server writes data/admin.token before it serves). */
  constructor(deps: { store: Store; keys: Keyring; audit: AuditLog }, configToken: () => string | undefined) {
    this.store = deps.store;
    this.keys = deps.keys;
    this.audit = deps.audit;
    this.configToken = configToken;
  }

  /** Creates a token; the clear token is in the answer and nowhere else, ever. */
  create(name: string, scope: AdminScope, who: string): { token: string; record: AdminTokenRecord } {
    if (!NAME_RE.test(name))
      throw new ApsError('bad_request', `token name "${name}" must be 1-64 letters, digits, "._-", starting with a letter or digit`);
    if (name === CONFIG_TOKEN_NAME) throw new ApsError('conflict', `"${CONFIG_TOKEN_NAME}" is the configured token's name (adminToken)`);
    assertScope(scope);
    const token = `aps_${randomBytes(32).toString('base64url')}`;
    // One write transaction: two processes creating the same name get one token and one clear conflict.
    const record = this.store.transaction(() => {
      if (this.store.tokens.get(name)) throw new ApsError('conflict', `a token named ${name} exists (revoke it first)`);
      this.store.tokens.insert({ name, scope, hash: this.hash(token), createdAt: new Date().toISOString(), createdBy: who });
      return this.store.tokens.get(name)!;
    }, 'immediate');
    this.audit.record({ who, action: 'token.create', target: name, after: record });
    return { token, record };
  }

  /** The stored tokens, and the configured one first (as `config`, full scope) when there is one. */
  list(): Array<AdminTokenRecord & { source: 'config' | 'store' }> {
    const stored = this.store.tokens.list().map((t) => ({ ...t, source: 'store' as const }));
    if (!this.configToken()) return stored;
    const config = { name: CONFIG_TOKEN_NAME, scope: 'full' as const, createdAt: '', createdBy: 'config', lastUsedAt: null };
    return [{ ...config, source: 'config' as const }, ...stored];
  }

  /** Revokes at once: the next request with it is refused (every request looks its hash up). */
  revoke(name: string, who: string): AdminTokenRecord {
    if (name === CONFIG_TOKEN_NAME)
      throw new ApsError('bad_request', 'the configured token is changed where it is set: adminToken, APS_ADMIN_TOKEN or data/admin.token');
    const t = this.store.tokens.get(name);
    if (!t || !this.store.tokens.remove(name)) throw new ApsError('not_found', `no token ${name}`);
    this.revocations++;
    this.audit.record({ who, action: 'token.revoke', target: name, before: t });
    return t;
  }

  /** The identity a bearer token proves, or undefined. */
  verify(token: string): AdminIdentity | undefined {
    if (!token) return undefined;
    const configured = this.configToken();
    if (configured) {
      this.configDigest ??= createHash('sha256').update(configured).digest();
      if (timingSafeEqual(this.configDigest, createHash('sha256').update(token).digest()))
        return { name: CONFIG_TOKEN_NAME, scope: 'full' };
    }
    if (!token.startsWith('aps_')) return undefined;
    const t = this.store.tokens.findByHash(this.hash(token));
    if (!t) return undefined;
    const now = Date.now();
    if (now - (this.touched.get(t.name) ?? 0) >= TOUCH_EVERY_MS) {
      this.touched.set(t.name, now);
      this.store.tokens.touch(t.name, new Date(now).toISOString());
    }
    return { name: t.name, scope: t.scope };
  }

  private hash(token: string): string {
    return this.keys.hmac('admin-token', token).toString('hex');
  }
}
