// One boot-storm driver process: N simulated devices of one adapter, from the adapters' own simulator modules,
// arriving over a spread of seconds (a site's devices come back after a power cut over tens of seconds, not in
// one millisecond), at most --concurrency of them talking to the server at once (the devices waiting for a
// slot are still booting: the slot bounds this process's sockets and CPU, it does not drop anyone), each
// attempt bounded by --timeout-s, and a failed attempt retried the way the firmware would (below). Prints one
// JSON summary line: devices, failed (after every retry), retries, attempt timeouts, requests, latency.
//
//   node --import tsx bench/lib/storm-driver.ts --kind vop|avaya|innovaphone|tr069|audiocodes --url BASE
//        --count N --first ID [--password PW] [--state DIR] [--spread-s 60] [--concurrency 100]
//        [--timeout-s 60] [--retries 3] [--retry-s 5]
//
// Retries: the TR-069 CPE waits as CWMP §3.2.1.1 says (CWMPRetryMinimumWaitInterval 5 s, multiplier 2: the
// n-th retry after a random wait in [5·2^(n-1), 5·2^n) s) and resumes the first cycle from the failed
// session; the other firmwares start their check again after a failed one (VOP and innovaphone at their next
// poll, the Avaya phone restarts its file-server chain, the AudioCodes gateway its automatic update), here
// with the same back-off so all five are counted alike. `--retry-s` is the 5 s.
import { parseArgs } from 'node:util';
import { isSimKind, simDevice, type Attempt } from './sim-devices.ts';

const { values: o } = parseArgs({
  options: {
    kind: { type: 'string' },
    url: { type: 'string' },
    count: { type: 'string' },
    first: { type: 'string' },
    password: { type: 'string', default: '' },
    state: { type: 'string', default: '' },
    'spread-s': { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '100' },
    'timeout-s': { type: 'string', default: '60' },
    retries: { type: 'string', default: '3' },
    'retry-s': { type: 'string', default: '5' },
  },
});
const kind = o.kind ?? '';
if (!isSimKind(kind)) {
  console.error(`unknown --kind ${kind}`);
  process.exit(64);
}
const url = o.url ?? '';
const first = o.first ?? '';
const count = Number(o.count);
const spreadMs = Number(o['spread-s']) * 1000;
const concurrency = Math.max(1, Number(o.concurrency));
const timeoutMs = Number(o['timeout-s']) * 1000;
const maxRetries = Number(o.retries);
const retryMs = Number(o['retry-s']) * 1000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const TIMEOUT = Symbol('timeout');
function withTimeout<T>(p: Promise<T>): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<typeof TIMEOUT>((r) => (timer = setTimeout(() => r(TIMEOUT), timeoutMs)))]).finally(() =>
    clearTimeout(timer),
  );
}

// The concurrency cap: a counting semaphore, FIFO.
let active = 0;
let peakActive = 0;
const waiting: Array<() => void> = [];
async function acquire(): Promise<void> {
  if (active >= concurrency) await new Promise<void>((r) => waiting.push(r));
  active++;
  peakActive = Math.max(peakActive, active);
}
function release(): void {
  active--;
  waiting.shift()?.();
}

const t0 = performance.now();
let failed = 0;
let retries = 0;
let timeouts = 0;
let requests = 0;
const got: Record<string, number> = {};
const errors = new Map<string, number>();
const attemptMs: number[] = [];
const doneMs: number[] = [];

await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    const attempt = simDevice(kind, i, { url, first, password: o.password, stateDir: o.state });
    // Arrivals spread evenly over the window, each jittered within its slot.
    await sleep((spreadMs * (i + Math.random())) / count);
    const arrived = performance.now();
    for (let n = 0; ; n++) {
      await acquire();
      const t = performance.now();
      let r: Attempt | typeof TIMEOUT;
      try {
        r = await withTimeout(attempt());
      } catch (e) {
        r = { ok: false, error: (e as Error).message, requests: 0, got: [] };
      } finally {
        release();
      }
      attemptMs.push(performance.now() - t);
      if (r !== TIMEOUT) {
        requests += r.requests;
        for (const k of r.got) got[k] = (got[k] ?? 0) + 1;
      } else timeouts++;
      if (r !== TIMEOUT && r.ok) {
        doneMs.push(performance.now() - arrived);
        return;
      }
      const why = r === TIMEOUT ? `no answer within ${timeoutMs / 1000} s` : (r.error ?? 'failed');
      if (n >= maxRetries) {
        failed++;
        errors.set(why, (errors.get(why) ?? 0) + 1);
        return;
      }
      retries++;
      errors.set(`retried: ${why}`, (errors.get(`retried: ${why}`) ?? 0) + 1);
      await sleep(retryMs * 2 ** n * (1 + Math.random()));
    }
  }),
);

const pct = (a: number[], q: number): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!) : 0;
};
console.log(
  JSON.stringify({
    kind,
    devices: count,
    failed,
    retries,
    timeouts,
    requests,
    got,
    peakConcurrent: peakActive,
    attemptP50ms: pct(attemptMs, 0.5),
    attemptP99ms: pct(attemptMs, 0.99),
    arrivalToDoneP99ms: pct(doneMs, 0.99),
    seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
    errors: Object.fromEntries([...errors].slice(0, 8)),
  }),
);
