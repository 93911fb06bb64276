// Maintenance-window tests: a clock the test moves (the server runs in-process, so its "now" is the
// test's), and a copy of the shipped profiles with a `window:` added to the ones named.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ADAPTERS } from '../../adapters/index.ts';
import type { Clock } from '../../src/clock.ts';
import { loadConfig, PACKAGE_ROOT } from '../../src/config.ts';
import { openCore, type Core } from '../../src/core.ts';
import { createLogger } from '../../src/log.ts';
import { tempDir } from './server.ts';

/** Runs with real time from the instant last set: moving it is what the window decisions see. */
export class TestClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  set(iso: string): void {
    this.offset = Date.parse(iso) - Date.now();
  }
}

/** The shipped profiles, with `window:` (and any other top-level keys) added to the named ones. */
export function profilesWith(extra: Record<string, Record<string, unknown>>): string {
  const dir = tempDir('aps-profiles-');
  cpSync(join(PACKAGE_ROOT, 'profiles'), dir, { recursive: true });
  for (const [name, keys] of Object.entries(extra)) {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n${stringify(keys)}`);
  }
  return dir;
}

/** Every day 02:00-03:00 UTC: closed at noon, open at 02:10. */
export const NIGHTLY = { from: '02:00', to: '03:00', tz: 'UTC' } as const;

/** A core without HTTP over `dataDir` (default: a new temp folder), with the shipped profiles plus `profiles` (profilesWith), on `clock`. */
export function openTestCore(o: { dataDir?: string; profiles?: Record<string, Record<string, unknown>>; clock?: Clock } = {}): Core {
  const config = loadConfig({
    env: {},
    overrides: { dataDir: o.dataDir ?? tempDir(), logLevel: 'silent', profilesDir: profilesWith(o.profiles ?? {}) },
  });
  return openCore(config, ADAPTERS, createLogger('silent'), o.clock ? { clock: o.clock } : {});
}
