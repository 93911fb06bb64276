// `aps simulate audiocodes`: one simulated gateway against any server. A check at start-up, then on the
// applied ini's schedule (every AutoUpdateFrequency minutes, or daily at AutoUpdatePredefinedTime + a random
// delay; --every overrides it for labs), and one on each SIP NOTIFY check-sync when --sip-port is given.
// Each check line says when the next one is.
import type { Command } from 'commander';
import { normalizeMac, addTlsOptions, positiveInt, tlsFromOptions, parseDuration, startSipListener } from '../../src/adapter-api.ts';
import { nextCheck, type NextCheck } from './sim-schedule.ts';
import { AudioCodesSimulator, type CheckResult } from './simulator.ts';

function line(n: number, trigger: string, r: CheckResult, fw: string): string {
  const what = [`ini ${r.ini}`, `cmp ${r.cmp}`, `aux [${r.aux.join(', ')}]`, r.reset ? `reset (firmware ${fw})` : 'no reset'].join(', ');
  return `check ${n} (${trigger}): ${r.ok ? 'ok' : 'FAILED'}: ${what}${r.errors.length ? `; ${r.errors.join('; ')}` : ''}`;
}

export function audiocodesSimulatorCommand(cmd: Command): void {
  addTlsOptions(cmd)
    .requiredOption('--url <url>', 'IniFileURL as set on the gateway, e.g. http://aps:8080/audiocodes/<MAC>.ini')
    .requiredOption('--mac <mac>', 'the gateway MAC (any spelling)')
    .option('--product <name>', 'product name in the User-Agent', 'MP-124')
    .option('--firmware <version>', 'firmware running at first boot', '6.60A.349.001')
    .option('--digest-user <name>', 'AUPDDigestUsername before the first ini')
    .option('--digest-password <pw>', 'AUPDDigestPassword before the first ini')
    .option(
      '--every <duration>',
      "check every duration instead of the ini's schedule (AutoUpdateFrequency or AutoUpdatePredefinedTime), e.g. 30s",
    )
    .option('--cycles <n>', 'stop after N checks (waiting for the schedule, e.g. the next daily time)')
    .option('--sip-port <port>', 'listen for SIP NOTIFY check-sync on this UDP port (0: any)')
    .option('--sip-host <addr>', 'address for the SIP listener', '127.0.0.1')
    .option('--json', 'print each check as JSON')
    .action(async (o) => {
      const mac = normalizeMac(o.mac);
      if (!mac) throw new Error(`--mac ${o.mac} is not a MAC address`);
      const sim = new AudioCodesSimulator({
        iniUrl: o.url,
        mac,
        product: o.product,
        firmware: o.firmware,
        ...tlsFromOptions(o),
        digest: o.digestUser ? { username: o.digestUser, password: o.digestPassword ?? '' } : undefined,
      });
      const every = o.every ? parseDuration(o.every) : null;
      const maxChecks = o.cycles !== undefined ? positiveInt('--cycles', o.cycles) : every || o.sipPort !== undefined ? Infinity : 1;
      let allOk = true;
      let n = 0;
      let finish: () => void = () => {};
      const done = new Promise<void>((r) => (finish = r));
      let timer: NodeJS.Timeout | undefined;
      let next: NextCheck | null = null;
      let stuck = false;
      const report = (trigger: string, r: CheckResult): void => {
        const at = next && n < maxChecks ? next : null;
        if (o.json)
          console.log(JSON.stringify({ check: n, trigger, firmware: sim.firmware, ...r, nextCheck: at ? at.at.toISOString() : null }));
        else console.log(line(n, trigger, r, sim.firmware) + (at ? `; next check at ${at.at.toISOString()} (${at.why})` : ''));
      };
      // The periodic timer: re-armed after the start-up and each periodic check. A NOTIFY check leaves it,
      // unless it reset the gateway (a new ini applied, new firmware or files): the gateway then restarts on the
      // schedule it just applied, and the old timer must not fire on the old one.
      const schedule = (): void => {
        clearTimeout(timer);
        timer = undefined;
        next = n < maxChecks ? nextCheck(sim.config, new Date(), { everyMs: every }) : null;
        if (next) timer = setTimeout(() => void run('periodic'), Math.max(0, next.at.getTime() - Date.now()));
        else if (n < maxChecks && !sip) stuck = true;
      };
      const run = async (trigger: string): Promise<void> => {
        if (n >= maxChecks) return;
        const r = await sim.check();
        n++;
        allOk &&= r.ok;
        if (trigger !== 'sip-notify' || r.reset) schedule();
        report(trigger, r);
        if (n >= maxChecks || stuck) finish();
      };
      const sip =
        o.sipPort !== undefined
          ? await startSipListener({ host: o.sipHost, port: Number(o.sipPort), onCheckSync: () => void run('sip-notify') })
          : null;
      if (sip) console.log(`listening for SIP NOTIFY on ${o.sipHost}:${sip.port}/udp`);
      await run('startup');
      if (n < maxChecks && !stuck) await done;
      clearTimeout(timer);
      await sip?.close();
      if (stuck) {
        console.error(
          `stopped after ${n} of ${maxChecks} checks: the applied ini schedules no further check (no AutoUpdateFrequency or AutoUpdatePredefinedTime); use --every or --sip-port`,
        );
        process.exitCode = 1;
      }
      if (!allOk) process.exitCode = 1;
    });
}
