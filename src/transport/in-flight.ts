/**
 * Device request work that may record its event after its connection has closed: a download closes its
 * file (on the thread pool) first, an answer held for its Last-Modified second ends when that second
 * comes, a cut backup upload is seen only when its body stream fails. The drain waits for connections,
 * not for these; shutdown waits for settled() too before the store closes, or the events are lost.
 */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  /** Counts `p` as running until it settles; returns it unchanged. */
  track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    const done = (): void => void this.running.delete(p);
    p.then(done, done);
    return p;
  }

  /** Resolves once nothing tracked is running (work started meanwhile included). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
