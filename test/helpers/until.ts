import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `get` until `check` holds (by default: until it returns something truthy), failing after `ms` with
 * what it last saw. Tests wait for the thing itself, never for a fixed time a loaded machine can outlast.
 */
export async function until<T>(what: string, get: () => T | Promise<T>, check: (v: T) => boolean = Boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (check(v)) return v;
    if (Date.now() > end) assert.fail(`${what}: not reached in ${ms} ms; last: ${String(JSON.stringify(v)).slice(0, 2000)}`);
    await sleep(10);
  }
}
