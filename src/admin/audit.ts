import { userInfo } from 'node:os';
import { isSecretVar } from '../devices/secret-vars.ts';
import { ApsError } from '../errors.ts';
import type { AuditQuery, AuditRecord, Store } from '../store/index.ts';

export type { AuditQuery, AuditRecord };

/**
 * One admin change, as a caller hands it to `core.audit.record()`:
 * - `who`: the admin token's name (`adminIdentity(res).name` in a route) or `cliActor()` in a command;
 * - `action`: `<object>.<verb>` (`device.update`, `artifact.remove`, `token.create`…), so `--action device`
 *   lists a whole family;
 * - `target`: the object's id or name;
 * - `before` / `after`: plain JSON of the object (null or left out when it did not / no longer exists).
 */
export interface AuditEntry {
  who: string;
  action: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

const MASK = '********';
const ACTION_RE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;

/**
 * The audit log of admin changes. Callers pass objects as they are: every string under a secret-looking
 * key (`password`, `*secret*`, `*token*`, `sip_password`… the rule secret variables use) is masked here,
 * at any depth, before anything is written, so no caller can store a secret by forgetting to mask it.
 */
export class AuditLog {
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  record(e: AuditEntry): AuditRecord {
    if (!ACTION_RE.test(e.action)) throw new ApsError('internal', `audit action "${e.action}" is not <object>.<verb>`);
    const row = {
      at: new Date().toISOString(),
      who: e.who,
      action: e.action,
      target: e.target,
      before: e.before === undefined || e.before === null ? null : JSON.stringify(maskSecrets(e.before)),
      after: e.after === undefined || e.after === null ? null : JSON.stringify(maskSecrets(e.after)),
    };
    const id = this.store.audit.insert(row);
    return { id, ...row, before: parseOrNull(row.before), after: parseOrNull(row.after) };
  }

  /** Newest first; `since` is normalised to an ISO time (see parseSince). */
  list(q: AuditQuery = {}): AuditRecord[] {
    return this.store.audit.list(q);
  }
}

function parseOrNull(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

/** A copy of `v` with the strings under secret-looking keys masked (an empty value stays empty: "none"). */
export function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>).map(([k, x]) => [
      k,
      isSecretVar(k) && typeof x === 'string' && x !== '' ? MASK : maskSecrets(x),
    ]),
  );
}

/**
 * The CLI's `who`: `cli:<os user>`. A container without a passwd entry for its uid has no user name
 * (userInfo throws): then the uid, so the entry still says who ran it.
 */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:${process.env.USER ?? `uid-${process.getuid?.() ?? 'unknown'}`}`;
  }
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--since` / `?since=`: an age (`30m`, `12h`, `7d`) or a date or time (`2026-11-30`, `2026-11-30T08:00Z`),
 * as the ISO time the log compares with.
 */
export function parseSince(text: string, now = Date.now()): string {
  const age = /^(\d{1,9})([mhd])$/.exec(text);
  if (age) return new Date(now - Number(age[1]) * UNIT_MS[age[2]!]!).toISOString();
  const t = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t))
    throw new ApsError('bad_request', `since must be an age (30m, 12h, 7d) or a date/time (2026-11-30T08:00Z), not "${text}"`);
  return new Date(t).toISOString();
}
