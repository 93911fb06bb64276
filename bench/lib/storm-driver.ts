// One boot-storm driver for the simulators that have no --count of their own (TR-069, AudioCodes): runs N
// simulated devices at once from the adapters' simulator modules and prints one JSON summary line.
//   node --import tsx bench/lib/storm-driver.ts tr069 <acs-url> <count> <serial-prefix> <password>
//   node --import tsx bench/lib/storm-driver.ts audiocodes <base-url> <count> <first-mac-12-hex>
import { AudioCodesSimulator } from '../../adapters/audiocodes/simulator.ts';
import { initialState, runCpeSession } from '../../adapters/tr069/simulator.ts';

const [kind, url, countArg, prefix, password = ''] = process.argv.slice(2);
const count = Number(countArg);
const t0 = performance.now();
let failed = 0;
let requests = 0;
const downloaded: Record<string, number> = {};
const count1 = (k: string): void => void (downloaded[k] = (downloaded[k] ?? 0) + 1);
const errors = new Map<string, number>();
const fail = (why: string): void => {
  failed++;
  errors.set(why, (errors.get(why) ?? 0) + 1);
};

if (kind === 'tr069') {
  // A first cycle: sessions until the ACS has nothing more to send (config, firmware, their TransferCompletes).
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const state = initialState();
      for (let s = 0; s < 4; s++) {
        const r = await runCpeSession({ acs: url!, serial: `${prefix}${i}`, password, state });
        requests += r.messages;
        for (const d of r.downloads) count1(d.fileType);
        if (!r.ok) return fail(r.error ?? 'session failed');
        if (r.downloads.length === 0 && s > 0) return;
      }
    }),
  );
} else if (kind === 'audiocodes') {
  const first = BigInt(`0x${prefix}`);
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const mac = (first + BigInt(i)).toString(16).padStart(12, '0');
      const sim = new AudioCodesSimulator({ iniUrl: `${url}/audiocodes/<MAC>.ini`, mac });
      const r = await sim.check();
      requests += r.downloads.length;
      if (r.cmp === 'installed') count1('firmware');
      if (r.ini === 'applied') count1('ini');
      if (!r.ok) fail(r.errors[0] ?? 'check failed');
    }),
  );
} else {
  console.error(`unknown driver ${kind}`);
  process.exit(64);
}
console.log(
  JSON.stringify({
    kind,
    devices: count,
    failed,
    requests,
    downloaded,
    seconds: (performance.now() - t0) / 1000,
    errors: Object.fromEntries(errors),
  }),
);
