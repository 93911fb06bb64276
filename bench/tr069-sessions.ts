// Prints TR-069 figures: CWMP Inform parse rate (xml2js codec) and full sessions per second (401, Inform
// with Digest, empty POST, 204) for N simulated CPEs at once against a server on port 0. The simulator
// runs in the same process, so the session figure is a lower bound for the server. No assertions.
// Run: node --import tsx bench/tr069-sessions.ts [cpes]
import { readFileSync } from 'node:fs';
import { initialState, runCpeSession, type CpeState } from '../adapters/tr069/simulator.ts';
import { parseCwmp } from '../adapters/tr069/soap.ts';
import { startTestServer } from '../test/helpers/server.ts';

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

const cpes = Number(process.argv[2] ?? 100);
const s = await startTestServer();
for (let i = 0; i < cpes; i++) s.core.devices.upsert({ id: `B${i}`, profile: 'thomson-tr069', password: 'pw' });
const states: CpeState[] = Array.from({ length: cpes }, () => initialState());
const round = () =>
  Promise.all(states.map((state, i) => runCpeSession({ acs: `${s.http}/tr069`, serial: `B${i}`, password: 'pw', state })));
await round(); // first contact: each CPE gets and completes its config download
for (let r = 1; r <= 3; r++) {
  t = performance.now();
  const res = await round();
  const sec = (performance.now() - t) / 1000;
  const msgs = res.reduce((a, x) => a + x.messages, 0);
  console.log(
    `round ${r}: ${cpes} sessions, ${res.filter((x) => !x.ok).length} failed, ${Math.round(cpes / sec)} sessions/s, ${Math.round(msgs / sec)} HTTP messages/s`,
  );
}
await s.stop();
