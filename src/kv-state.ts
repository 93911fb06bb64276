import type { Store } from './store/index.ts';

/**
 * Small key-value state for adapters (protocol sessions, pending transfers), kept in the store so it
 * survives a restart or a reconnect to another node. Values are JSON.
 */
export class KvState {
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

  delete(key: string): void {
    this.store.state.kvDelete(this.ns, key);
  }

  entries<T>(prefix = ''): Array<{ key: string; value: T }> {
    return this.store.state.kvEntries(this.ns, prefix, Date.now()).map((e) => ({ key: e.key, value: JSON.parse(e.value) as T }));
  }
}
