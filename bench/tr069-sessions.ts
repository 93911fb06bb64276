// Prints TR-069 figures: CWMP Inform parse rate (sax, xml-tree.ts) and full sessions per second (401, Inform
// with Digest, empty POST, 204) for N simulated CPEs at once against APS in its own process, with the
// server's CPU time per session. No assertions.
// Run: node --import tsx bench/tr069-sessions.ts [cpes]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initialState, runCpeSession, type CpeState } from '../adapters/tr069/simulator.ts';
import { parseCwmp } from '../adapters/tr069/soap.ts';
import { aps, HOST, machineNote, procCpuMs, runBench, startAps, stop, tempDir } from './lib/harness.ts';

const xml = readFileSync(new URL('../adapters/tr069/fixtures/inform_gfiber_cpe.xml', import.meta.url));
for (let i = 0; i < 500; i++) parseCwmp(xml);
let t = performance.now();
for (let i = 0; i < 5000; i++) parseCwmp(xml);
const informMs = (performance.now() - t) / 5000;
console.log(`Inform parse (${xml.length} bytes): ${Math.round(1000 / informMs)}/s`);

// Hostile bodies against the same parser, timed to the refusal (a work limit stops each one): the audit's
// 4000 namespace declarations × 20000 elements took ~17 s before the limits, 80000 attributes 2.8 s.
const decls = Array.from({ length: 4000 }, (_, i) => `xmlns:p${i}="urn:x${i}"`).join(' ');
const bombs = {
  'namespace bomb': Buffer.from(
    `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ${decls}><soap:Body>${'<b/>'.repeat(20_000)}</soap:Body></soap:Envelope>`,
  ),
  'attribute bomb': Buffer.from(
    `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ${Array.from({ length: 80_000 }, (_, i) => `a${i}="1"`).join(' ')}/>`,
  ),
};
for (const [name, body] of Object.entries(bombs)) {
  t = performance.now();
  let refused = '';
  try {
    parseCwmp(body, { maxBytes: 4 << 20 });
  } catch (e) {
    refused = (e as Error).message;
  }
  const ms = performance.now() - t;
  console.log(
    `${name} (${body.length} bytes): ${refused ? `refused in ${ms.toFixed(1)} ms (${refused}), ${(ms / informMs).toFixed(0)}× one Inform's parse` : `parsed in ${ms.toFixed(1)} ms`}`,
  );
}

// Sessions: APS (compiled, `npm run build` first) in its own process, the simulated CPEs in this one, so the
// server has a core of its own; the server's CPU time per session is the figure other load moves least.
const cpes = Number(process.argv[2] ?? 100);
await runBench(async () => {
  const dir = tempDir('aps-bench-tr069-');
  const fleet = join(dir, 'cpes.yaml');
  writeFileSync(
    fleet,
    'devices:\n' +
      Array.from({ length: cpes }, (_, i) => `  - { id: B${i}, profile: thomson-tr069, password: pw-B${i}-0123456789 }\n`).join(''),
  );
  await aps(['apply', fleet], join(dir, 'data'), dir);
  const server = await startAps(join(dir, 'data'), dir);
  const acs = `http://${HOST}:${server.port}/tr069`;
  const states: CpeState[] = Array.from({ length: cpes }, () => initialState());
  const round = () =>
    Promise.all(states.map((state, i) => runCpeSession({ acs, serial: `B${i}`, password: `pw-B${i}-0123456789`, state })));
  await round(); // first contact: each CPE gets and completes its config download
  console.log(`sessions: ${cpes} CPEs at once, APS in its own process (${machineNote()})`);
  for (let r = 1; r <= 3; r++) {
    const cpu0 = procCpuMs(server.pid);
    t = performance.now();
    const res = await round();
    const sec = (performance.now() - t) / 1000;
    const cpuUs = ((procCpuMs(server.pid) - cpu0) * 1000) / cpes;
    const msgs = res.reduce((a, x) => a + x.messages, 0);
    console.log(
      `round ${r}: ${cpes} sessions, ${res.filter((x) => !x.ok).length} failed, ${Math.round(cpes / sec)} sessions/s, ${Math.round(msgs / sec)} HTTP messages/s; server CPU ${Math.round(cpuUs)} us/session (one core: ${Math.round(1e6 / cpuUs)} sessions/s)`,
    );
  }
  await stop(server);
}, 600);
