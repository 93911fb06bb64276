/**
 * Values read from the store, kept while its change generation stands: every write that changes what they
 * say moves the generation (triggers, src/store/migrations.ts), in this process or another (the CLI), so a
 * hit is never stale. Bounded: past `max` entries it starts over. What device requests ask many times per
 * request (a device, its group) costs one statement per generation instead. One owner per kind of row: groups
 * are the device registry's (the catalog reads them through it).
 */
export class GenerationCache<K, V> {
  private gen = -1;
  private readonly map = new Map<K, V>();
  private readonly generation: () => number;
  private readonly max: number;

  constructor(generation: () => number, max = 10_000) {
    this.generation = generation;
    this.max = max;
  }

  get(key: K, read: () => V): V {
    const g = this.generation();
    if (g !== this.gen) {
      this.map.clear();
      this.gen = g;
    }
    if (this.map.has(key)) return this.map.get(key) as V;
    const v = read();
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, v);
    return v;
  }
}
