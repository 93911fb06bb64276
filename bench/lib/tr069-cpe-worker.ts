// A child process of bench/tr069-sessions.ts: runs CPEs [from, to) of the bench fleet with the TR-069
// simulator (`runCpeSession`, unchanged: real Digest per session, the real Inform body, one keep-alive TCP
// connection per session, or with argv[5] 'message' a fresh one per HTTP message), so the bench's own client can use more
// than one core. Messages from the parent: {go: seconds} runs each CPE's sessions back to back until
// then, answered with the counts and this process's CPU time; {quit: true} ends it.
import { initialState, runCpeSession, type CpeState } from '../../adapters/tr069/simulator.ts';
import type { CpeConnection } from '../../adapters/tr069/simulator-http.ts';

interface Go {
  go: number;
}
export interface RoundResult {
  sessions: number;
  failed: number;
  messages: number;
  firstError?: string;
  /** user + system CPU of this process during the round, ms */
  cpuMs: number;
}

const [acs, fromArg, toArg, connection] = process.argv.slice(2);
const from = Number(fromArg);
const to = Number(toArg);
const cpes = Array.from({ length: to - from }, (_, k) => ({ i: from + k, state: initialState() as CpeState }));
const session = (c: (typeof cpes)[number]) =>
  runCpeSession({
    acs: acs!,
    serial: `B${c.i}`,
    password: `pw-B${c.i}-0123456789`,
    state: c.state,
    connection: connection as CpeConnection,
  });

async function round(seconds: number): Promise<RoundResult> {
  const cpu0 = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  const r: RoundResult = { sessions: 0, failed: 0, messages: 0, cpuMs: 0 };
  await Promise.all(
    cpes.map(async (c) => {
      while (performance.now() < end) {
        const x = await session(c);
        r.sessions++;
        r.messages += x.messages;
        if (!x.ok) {
          r.failed++;
          r.firstError ??= x.error;
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  r.cpuMs = (cpu.user + cpu.system) / 1000;
  return r;
}

// First contact (each CPE gets and completes its config download), then ready.
const first = await Promise.all(cpes.map(session));
process.send!({ ready: true, failed: first.filter((x) => !x.ok).length, firstError: first.find((x) => !x.ok)?.error });
process.on('message', (m: Go | { quit: true }) => {
  if ('quit' in m) process.exit(0);
  void round(m.go).then((r) => process.send!(r));
});
process.on('disconnect', () => process.exit(0));
