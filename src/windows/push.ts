// The optional push at a window's start (`push: true` on a window): the devices whose window has just
// opened and that have a change pending are told to check now, through their adapter's notify (SIP NOTIFY
// check-sync, a TR-069 connection request…), at most `windows.pushPerSecond` a second. Runs in the server
// process on unref'd timers; stop() ends it with the server.
import type { Adapter } from '../adapter.ts';
import { buildAdapterServices } from '../adapter-services.ts';
import type { Core } from '../core.ts';
import type { DeviceRecord } from '../store/index.ts';
import { startsBetween } from './window-time.ts';
import type { WindowDef } from './window-def.ts';

export interface WindowPush {
  /** Looks for window starts since the last look and queues their pushes; resolves to how many were queued. */
  check(): Promise<number>;
  /** Resolves when every queued push has been sent (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startWindowPush(core: Core): WindowPush {
  const { pushPerSecond, checkSeconds } = core.config.windows;
  const clock = core.windows.clock;
  const log = core.log.child({ component: 'window-push' });
  let last = clock.now();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const queue: DeviceRecord[] = [];
  let draining: Promise<void> | null = null;

  const adapterOf = (d: DeviceRecord): Adapter | undefined => (core.adapterNameOf(d.profile) ? core.adapterOf(d.profile) : undefined);

  /** A slot whose target differs from what the device holds, or a rendered file that would change. */
  const pending = (d: DeviceRecord, a: Adapter): boolean => {
    if (core.windows.pendingSlots(d, core.catalog.targets(d)).length > 0) return true;
    let differs = false;
    const probe = buildAdapterServices(core, a, {
      readOnly: true,
      probe: (id, file, f) => {
        if (id === d.id && core.windows.fileDiffers(id, file, f.revision.sha256)) differs = true;
      },
    });
    a.preview(d, probe, core.adapterConfig(a.name));
    return differs;
  };

  const send = async (d: DeviceRecord): Promise<void> => {
    const a = adapterOf(d);
    if (!a?.notify) return;
    try {
      const r = await a.notify(d, core.servicesFor(a.name), core.adapterConfig(a.name));
      core.events.record({
        deviceId: d.id,
        adapter: a.name,
        file: 'window:push',
        status: 200,
        seen: false,
        detail: `window opened: ${r.summary}`,
        // Not an HTTP answer: a push the device did not take is recorded as a fault, in the adapter's words.
        fault: r.ok ? null : { code: 'notify', message: r.summary },
      });
      log.info({ device: d.id, ok: r.ok, summary: r.summary }, 'window opened: device told to check');
    } catch (e) {
      log.warn({ device: d.id, err: e }, 'window push failed');
    }
  };

  const drain = async (): Promise<void> => {
    const gap = 1000 / pushPerSecond;
    while (queue.length > 0 && !stopped) {
      const started = Date.now();
      await send(queue.shift()!);
      const wait = gap - (Date.now() - started);
      if (wait > 0 && queue.length > 0) await new Promise((r) => setTimeout(r, wait).unref());
    }
    draining = null;
  };

  // Working out what is pending renders each candidate's files: the loop yields every few devices so a
  // large fleet's window start never holds device requests up.
  const check = async (): Promise<number> => {
    const now = clock.now();
    const from = last;
    last = now;
    const started = new Map<WindowDef, boolean>();
    const opened = (def: WindowDef): boolean => {
      let hit = started.get(def);
      if (hit === undefined) started.set(def, (hit = def.push && startsBetween(def, from, now).length > 0));
      return hit;
    };
    let queued = 0;
    let n = 0;
    for (const d of core.devices.list()) {
      if (++n % 50 === 0) await new Promise((r) => setImmediate(r));
      if (stopped) return queued;
      const w = core.windows.definitionOf(d);
      if (!w || !opened(w.def) || d.status !== 'active') continue;
      const a = adapterOf(d);
      if (!a?.notify) continue;
      try {
        if (!pending(d, a)) continue;
      } catch (e) {
        log.warn({ device: d.id, err: e }, 'could not tell whether a change is pending');
        continue;
      }
      queue.push(d);
      queued++;
    }
    if (queued > 0 && !draining) draining = drain();
    return queued;
  };

  // Wakes at the next start of a profile window that pushes (so the push is on time), and at least every
  // checkSeconds (group windows, a clock moved by hand, a profile loaded later).
  const nextWake = (): number => {
    const now = clock.now();
    let wake = checkSeconds * 1000;
    for (const p of core.profiles.list()) {
      if (!p.window?.push) continue;
      const next = core.windows.timesOf(p.window, now).nextStart;
      if (next) wake = Math.min(wake, Math.max(0, next.getTime() - now) + 5);
    }
    return wake;
  };

  const arm = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      check()
        .catch((e: unknown) => log.error({ err: e }, 'window push check failed'))
        .finally(arm);
    }, nextWake()).unref();
  };
  arm();

  return {
    check,
    async idle(): Promise<void> {
      while (draining) await draining;
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      queue.length = 0;
      // A notify already on the wire is given a moment, not its whole timeout: the server is closing.
      if (draining) await Promise.race([draining, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}
