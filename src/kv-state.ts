import type { Store } from './store/index.ts';

/** What an adapter holds of its kv namespace: the methods, never the store behind them. */
export interface AdapterState {
  get<T>(key: string): T | undefined;
  /** Written with the store's group commit: seen by this process at once, by other processes within ~10 ms. */
  set(key: string, value: unknown, ttlMs?: number): void;
  /**
   * Committed before it returns, so another node sharing the data folder sees it at once (a Digest
   * nonce-count: a replay to the other node is refused); while another process holds the write lock, as set().
   */
  setNow(key: string, value: unknown, ttlMs?: number): void;
  delete(key: string): void;
  entries<T>(prefix?: string): Array<{ key: string; value: T }>;
  /**
   * `key` was just made up by this process (it names a fresh random nonce) and no row can hold it yet: its
   * first read need not ask SQLite (a Digest nonce-count read was one SQLite statement per session, issue 15).
   * Only a hint to this connection's cache, dropped as soon as another connection commits.
   */
  knownAbsent(key: string): void;
}

/** Plain functions over one namespace, for the AdapterContext. */
export function adapterState(kv: KvState): AdapterState {
  return {
    get: <T>(key: string): T | undefined => kv.get<T>(key),
    set: (key, value, ttlMs) => kv.set(key, value, ttlMs),
    setNow: (key, value, ttlMs) => kv.setNow(key, value, ttlMs),
    delete: (key) => kv.delete(key),
    entries: <T>(prefix?: string): Array<{ key: string; value: T }> => kv.entries<T>(prefix),
    knownAbsent: (key) => kv.knownAbsent(key),
  };
}

/**
 * Small key-value state for adapters (protocol sessions, pending transfers), kept in the store so it
 * survives a restart or a reconnect to another node. Values are JSON.
 */
export class KvState implements AdapterState {
  private readonly store: Store;
  private readonly ns: string;

  constructor(store: Store, ns: string) {
    this.store = store;
    this.ns = ns;
  }

  get<T>(key: string): T | undefined {
    const v = this.store.state.kvGetValue(this.ns, key, Date.now());
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }

  set(key: string, value: unknown, ttlMs?: number): void {
    this.store.state.kvSet(this.ns, key, JSON.stringify(value), ttlMs ? Date.now() + ttlMs : null);
  }

  /** set(), committed before it returns unless another process holds the write lock (see StateQueries.kvSetNow). */
  setNow(key: string, value: unknown, ttlMs?: number): void {
    this.store.state.kvSetNow(this.ns, key, JSON.stringify(value), ttlMs ? Date.now() + ttlMs : null);
  }

  delete(key: string): void {
    this.store.state.kvDelete(this.ns, key);
  }

  /** Commits this process's pending kv writes now, waiting for the write lock (they are committed within milliseconds anyway). */
  flush(): void {
    this.store.state.flushKv({ wait: true });
  }

  /** A key this process just made sure has no row (a fresh nonce's count): see AdapterState.knownAbsent. */
  knownAbsent(key: string): void {
    this.store.state.kvKnownAbsent(this.ns, key);
  }

  entries<T>(prefix = ''): Array<{ key: string; value: T }> {
    return this.store.state.kvEntries(this.ns, prefix, Date.now()).map((e) => ({ key: e.key, value: JSON.parse(e.value) as T }));
  }
}
