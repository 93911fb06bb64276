import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CoreServices } from '../core.ts';
import { corruptValueCount } from '../store/index.ts';

/** Prometheus metrics: device requests and bytes by adapter and status, fleet size, process defaults. */
export function createMetrics(core: CoreServices): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'aps_' });
  const requests = new Counter({
    name: 'aps_device_requests_total',
    help: 'Device requests answered, by adapter and HTTP status',
    labelNames: ['adapter', 'status'] as const,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'aps_device_bytes_total',
    help: 'Bytes of files sent to devices, by adapter',
    labelNames: ['adapter'] as const,
    registers: [registry],
  });
  const faults = new Counter({
    name: 'aps_device_faults_total',
    help: 'Faults devices reported (or that their protocol implies, e.g. a transfer timeout), by adapter',
    labelNames: ['adapter'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'aps_devices',
    help: 'Registered devices, by profile',
    labelNames: ['profile'] as const,
    registers: [registry],
    collect(): void {
      this.reset();
      for (const { profile, count } of core.devices.countByProfile()) this.set({ profile }, count);
    },
  });
  const sinkCounter = (name: string, help: string, key: 'written' | 'dropped' | 'writeFailures'): void =>
    void new Counter({
      name,
      help,
      registers: [registry],
      collect(): void {
        this.reset();
        this.inc(core.events.stats()[key]);
      },
    });
  sinkCounter('aps_events_written_total', 'Device events written to the store', 'written');
  sinkCounter(
    'aps_events_dropped_total',
    'Device events lost: the queue outgrew its bound while the store refused writes, a row the store rejected, or unwritten at close',
    'dropped',
  );
  sinkCounter(
    'aps_event_write_failures_total',
    'Event writes that failed and were retried (e.g. the CLI held the write lock)',
    'writeFailures',
  );
  new Gauge({
    name: 'aps_events_queued',
    help: 'Device events waiting to be written',
    registers: [registry],
    collect(): void {
      this.set(core.events.stats().queued);
    },
  });
  new Counter({
    name: 'aps_front_proxy_unconfirmed_total',
    help: 'Downloads handed to the front proxy (X-Accel-Redirect) that it never reported within completionTimeoutSeconds',
    registers: [registry],
    collect(): void {
      this.reset();
      this.inc(core.files.frontProxy?.stats().unconfirmed ?? 0);
    },
  });
  new Counter({
    name: 'aps_front_proxy_overflowed_total',
    help: 'Hand-overs recorded as unconfirmed early because maxPending transfers were already awaiting a report (also in unconfirmed)',
    registers: [registry],
    collect(): void {
      this.reset();
      this.inc(core.files.frontProxy?.stats().overflowed ?? 0);
    },
  });
  new Gauge({
    name: 'aps_front_proxy_pending',
    help: 'Downloads handed to the front proxy whose end it has not reported yet',
    registers: [registry],
    collect(): void {
      this.set(core.files.frontProxy?.stats().pending ?? 0);
    },
  });
  new Counter({
    name: 'aps_store_corrupt_values_total',
    help: 'Stored JSON values found corrupt (refused with an error naming them, never read as a default)',
    registers: [registry],
    collect(): void {
      this.reset();
      this.inc(corruptValueCount());
    },
  });
  new Gauge({
    name: 'aps_artifacts',
    help: 'Artifacts in the catalog',
    registers: [registry],
    collect(): void {
      this.set(core.catalog.list().length);
    },
  });
  new Gauge({
    name: 'aps_password_checks_queued',
    help: 'Legacy (scrypt) password checks waiting for one of the two scrypt slots (a high value means a flood of wrong passwords)',
    registers: [registry],
    collect(): void {
      this.set(core.devices.passwordCheckStats().queued);
    },
  });
  new Counter({
    name: 'aps_password_checks_total',
    help: 'Device password checks against a stored hash (keyed HMAC, or a legacy scrypt hash)',
    registers: [registry],
    collect(): void {
      this.reset();
      this.inc(core.devices.passwordCheckStats().checked);
    },
  });
  new Counter({
    name: 'aps_password_hashes_total',
    help: 'Device password checks that ran scrypt on a legacy hash, rewritten as keyed after a success (remembered results do not count)',
    registers: [registry],
    collect(): void {
      this.reset();
      this.inc(core.devices.passwordCheckStats().hashed);
    },
  });
  new Gauge({
    name: 'aps_access_locked',
    help: 'Devices and client addresses locked now after failed logins (aps access locks), by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect(): void {
      this.reset();
      const locked = core.guard.list().filter((l) => l.lockedUntil !== null);
      for (const kind of ['device', 'address'] as const) this.set({ kind }, locked.filter((l) => l.kind === kind).length);
    },
  });
  // Label children are looked up once per (adapter, status): hashing the labels of every event showed in
  // the device path's profile.
  const requestsBy = new Map<string, Counter.Internal>();
  core.events.onEvent((e) => {
    const key = `${e.adapter}\0${e.status}`;
    let child = requestsBy.get(key);
    if (!child) requestsBy.set(key, (child = requests.labels(e.adapter, String(e.status))));
    child.inc();
    if (e.bytes > 0) bytes.inc({ adapter: e.adapter }, e.bytes);
    if (e.fault) faults.inc({ adapter: e.adapter });
  });
  return registry;
}
