// What this connection last read or wrote of the adapters' key-value state (management sessions, nonce-counts,
// pending downloads, access-guard failures), so a device request asks SQLite only for what it has not seen:
// a device management session read ~8 kv rows, each a synchronous statement (issue 15).
//
// Correct across processes: StateQueries drops the whole cache whenever `PRAGMA data_version` says another
// connection committed (checked at most once per event-loop turn, as the change generation is), and inside a
// transaction nothing is cached (a rollback would leave a value that was never committed). Expiry is judged
// at each read against the row's own expires_ms, as the SQL did.

interface Row {
  value: string;
  expires: number | null;
}

const live = (r: Row | undefined, now: number): r is Row => r !== undefined && (r.expires === null || r.expires > now);

/**
 * Bounds (characters of values held; perf-mem's RSS goal): past this the cache starts over, a reload costing
 * one statement a key. A value above MAX_VALUE (an announced config file) is never held: always read.
 */
const MAX_CHARS = 4 << 20;
const MAX_VALUE = 4096;

export class KvCache {
  /** `ns\0key` → the row, or null for "no row" (a miss is worth remembering: retry:… is mostly absent). */
  private readonly rows = new Map<string, Row | null>();
  /** `ns\0prefix` → the rows under it, in key order. */
  private readonly lists = new Map<string, Array<{ key: string } & Row>>();
  /** ns → the lengths of the prefixes listed (few: 'dl:', 'dl:<id>:', 'pending:'), so a write probes only those. */
  private readonly listed = new Map<string, Set<number>>();
  private chars = 0;

  clear(): void {
    this.rows.clear();
    this.lists.clear();
    this.listed.clear();
    this.chars = 0;
  }

  /** Room for `n` more characters, starting over when full; false for what is too large to hold. */
  private room(n: number): boolean {
    if (n > MAX_VALUE * 4) return false;
    this.chars += n;
    if (this.chars > MAX_CHARS) {
      this.clear();
      this.chars = n;
    }
    return true;
  }

  /** The cached answer: the value, null for "no live row", undefined when only SQLite knows. */
  get(ns: string, key: string, now: number): string | null | undefined {
    const r = this.rows.get(`${ns}\0${key}`);
    if (r === undefined) return undefined;
    return r !== null && live(r, now) ? r.value : null;
  }

  putRow(ns: string, key: string, row: Row | null): void {
    const k = `${ns}\0${key}`;
    if ((row?.value.length ?? 0) > MAX_VALUE || !this.room(k.length + (row?.value.length ?? 0))) this.rows.delete(k);
    else this.rows.set(k, row);
  }

  /** After a write of `key`: the row as written (or deleted), and every cached listing that holds it dropped. */
  wrote(ns: string, key: string, row: Row | null): void {
    this.putRow(ns, key, row);
    this.dropLists(ns, key);
  }

  /** The same for a write whose result must not be cached (inside a transaction). */
  forget(ns: string, key: string): void {
    this.rows.delete(`${ns}\0${key}`);
    this.dropLists(ns, key);
  }

  list(ns: string, prefix: string, now: number): Array<{ key: string; value: string }> | undefined {
    const l = this.lists.get(`${ns}\0${prefix}`);
    return l?.filter((r) => live(r, now)).map((r) => ({ key: r.key, value: r.value }));
  }

  putList(ns: string, prefix: string, rows: Array<{ key: string } & Row>): void {
    const n = rows.reduce((a, r) => a + r.key.length + r.value.length, prefix.length);
    if (!this.room(n)) return;
    this.lists.set(`${ns}\0${prefix}`, rows);
    let lengths = this.listed.get(ns);
    if (!lengths) this.listed.set(ns, (lengths = new Set()));
    lengths.add(prefix.length);
  }

  // The listings a key falls under are those of its own prefixes: one probe per prefix length listed in the
  // namespace, whatever the number of listings cached.
  private dropLists(ns: string, key: string): void {
    const lengths = this.listed.get(ns);
    if (!lengths) return;
    const base = `${ns}\0`;
    for (const n of lengths) if (n <= key.length) this.lists.delete(base + key.slice(0, n));
  }
}
