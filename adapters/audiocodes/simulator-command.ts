// `aps simulate audiocodes`: one simulated gateway against any server. A check at start-up, then every
// AutoUpdateFrequency minutes from the applied ini (or --every, for labs), and one on each SIP NOTIFY
// check-sync when --sip-port is given.
import type { Command } from 'commander';
import { normalizeMac } from '../../src/devices/mac.ts';
import { addTlsOptions, positiveInt, tlsFromOptions } from '../../src/sim/cli-options.ts';
import { parseDuration } from '../../src/sim/http-client.ts';
import { getParam, valueText } from './ini-doc.ts';
import { startSipListener } from './sim-sip.ts';
import { AudioCodesSimulator, type CheckResult } from './simulator.ts';

function line(n: number, trigger: string, r: CheckResult, fw: string): string {
  const what = [`ini ${r.ini}`, `cmp ${r.cmp}`, `aux [${r.aux.join(', ')}]`, r.reset ? `reset (firmware ${fw})` : 'no reset'].join(', ');
  return `check ${n} (${trigger}): ${r.ok ? 'ok' : 'FAILED'}: ${what}${r.errors.length ? `; ${r.errors.join('; ')}` : ''}`;
}

/** Minutes between checks from the applied ini (AutoUpdateFrequency); null when the ini sets none. */
function frequencyMs(sim: AudioCodesSimulator): number | null {
  const v = sim.config && getParam(sim.config, 'AutoUpdateFrequency');
  const n = v ? Number(valueText(v)) : NaN;
  return Number.isInteger(n) && n > 0 ? n * 60_000 : null;
}

export function audiocodesSimulatorCommand(cmd: Command): void {
  addTlsOptions(cmd)
    .requiredOption('--url <url>', "IniFileURL as set on the gateway, e.g. http://aps:8080/audiocodes/<MAC>.ini")
    .requiredOption('--mac <mac>', 'the gateway MAC (any spelling)')
    .option('--product <name>', 'product name in the User-Agent', 'MP-124')
    .option('--firmware <version>', 'firmware running at first boot', '6.60A.349.001')
    .option('--digest-user <name>', 'AUPDDigestUsername before the first ini')
    .option('--digest-password <pw>', 'AUPDDigestPassword before the first ini')
    .option('--every <duration>', 'check every duration instead of the ini\'s AutoUpdateFrequency (e.g. 30s)')
    .option('--cycles <n>', 'stop after N checks')
    .option('--sip-port <port>', 'listen for SIP NOTIFY check-sync on this UDP port (0: any)')
    .option('--sip-host <addr>', 'address for the SIP listener', '127.0.0.1')
    .option('--json', 'print each check as JSON')
    .action(async (o) => {
      const mac = normalizeMac(o.mac);
      if (!mac) throw new Error(`--mac ${o.mac} is not a MAC address`);
      const sim = new AudioCodesSimulator({
        iniUrl: o.url, mac, product: o.product, firmware: o.firmware, ...tlsFromOptions(o),
        digest: o.digestUser ? { username: o.digestUser, password: o.digestPassword ?? '' } : undefined,
      });
      const every = o.every ? parseDuration(o.every) : null;
      const maxChecks = o.cycles !== undefined ? positiveInt('--cycles', o.cycles) : every || o.sipPort !== undefined ? Infinity : 1;
      let allOk = true;
      let n = 0;
      let finish: () => void = () => {};
      const done = new Promise<void>((r) => (finish = r));
      const run = async (trigger: string): Promise<void> => {
        if (n >= maxChecks) return;
        const r = await sim.check();
        n++;
        allOk &&= r.ok;
        console.log(o.json ? JSON.stringify({ check: n, trigger, firmware: sim.firmware, ...r }) : line(n, trigger, r, sim.firmware));
        if (n >= maxChecks) finish();
      };
      const sip = o.sipPort !== undefined ? await startSipListener({ host: o.sipHost, port: Number(o.sipPort), onCheckSync: () => void run('sip-notify') }) : null;
      if (sip) console.log(`listening for SIP NOTIFY on ${o.sipHost}:${sip.port}/udp`);
      await run('startup');
      let timer: NodeJS.Timeout | undefined;
      const schedule = (): void => {
        const ms = every ?? frequencyMs(sim);
        if (ms && n < maxChecks) timer = setTimeout(() => void run('periodic').then(schedule), ms);
      };
      schedule();
      if (n < maxChecks && (timer || sip)) await done;
      clearTimeout(timer);
      await sip?.close();
      if (!allOk) process.exitCode = 1;
    });
}

