// `aps simulate avaya`: one phone boot (or --count phones with consecutive MACs), printed as text or JSON.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { addTlsOptions, normalizeMac, positiveInt, startSipListener, tlsFromOptions } from '../../src/adapter-api.ts';
import { bootPhone, type BootResult } from './simulator.ts';

/** The MAC `i` steps after `mac` (12 lower-case hex digits). */
export function macPlus(mac: string, i: number): string {
  return (BigInt(`0x${mac}`) + BigInt(i)).toString(16).padStart(12, '0').slice(-12);
}

function describe(r: BootResult): string {
  const head = r.ok ? 'ok' : `FAILED: ${r.error}`;
  const lines = [
    `${r.mac} ${r.model} (${r.script}): ${head}`,
    `  APPNAME ${r.appname ?? '(none)'}; downloaded ${r.downloaded.join(', ') || 'no binary'}; running ${r.running ?? '(nothing)'}`,
    ...Object.entries(r.settings).map(([k, v]) => `  SET ${k} ${v}`),
  ];
  return lines.join('\n');
}

/** Waits for check-sync NOTIFYs; each one reboots the phone (one boot at a time), until --reboots are done. */
async function rebootOnCheckSync(
  o: { sipPort: string; sipHost: string; reboots?: string; json?: boolean },
  boot: () => Promise<BootResult>,
): Promise<void> {
  const port = Number(o.sipPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--sip-port ${o.sipPort} is not a port number`);
  const max = o.reboots === undefined ? Infinity : positiveInt('--reboots', o.reboots);
  let done = 0;
  let chain = Promise.resolve();
  let finished!: () => void;
  const allDone = new Promise<void>((r) => (finished = r));
  const onCheckSync = (): void => {
    chain = chain.then(async () => {
      if (done >= max) return;
      const r = await boot();
      done++;
      console.log(o.json ? JSON.stringify(r) : `reboot ${done} (check-sync):\n${describe(r)}`);
      if (!r.ok) process.exitCode = 1;
      if (done >= max) finished();
    });
  };
  const listener = await startSipListener({ port, host: o.sipHost, onCheckSync });
  console.log(`listening for SIP NOTIFY check-sync on udp ${o.sipHost}:${listener.port}`);
  await allDone;
  await listener.close();
}

export function avayaSimulatorCommand(cmd: Command): void {
  addTlsOptions(cmd)
    .requiredOption('--server <url>', 'APS base URL (http://host:8080) or the file server folder (…/avaya)')
    .requiredOption('--model <model>', 'the phone model, e.g. 16CC, 9608, J179 ($MODEL4 is its first 4 characters)')
    .requiredOption('--mac <mac>', "the phone's MAC (with --count N: the first of N consecutive MACs)")
    .option('--group <n>', 'the GROUP value (0-999)', '0')
    .option('--running <binary>', 'the image the phone runs before its first boot here')
    .option('--script <name>', 'the upgrade script to request (default: by model family)')
    .option('--user <name>', 'user name for Basic credentials on its own file (default: the MAC)')
    .option('--password <pw>', 'send Basic credentials with its own file (to receive its secret lines)')
    .option('--state <dir>', 'where each phone keeps what it runs between boots', '.aps-sim/avaya')
    .option('--count <n>', 'boot N phones (consecutive MACs) concurrently and print a summary')
    .option('--json', 'print results as JSON')
    .option('--sip-port <n>', 'after booting, listen for SIP NOTIFY check-sync on this UDP port (0: any) and reboot on each')
    .option('--sip-host <addr>', 'address the SIP listener binds', '127.0.0.1')
    .option('--reboots <n>', 'with --sip-port: exit after N reboots (default: run until stopped)')
    .action(async (o) => {
      const mac = normalizeMac(o.mac);
      if (!mac) throw new Error(`--mac ${o.mac} is not a MAC address`);
      const group = Number(o.group);
      if (!Number.isInteger(group) || group < 0 || group > 999) throw new Error(`--group ${o.group} must be 0-999`);
      const count = o.count === undefined ? undefined : positiveInt('--count', o.count);
      const macs = Array.from({ length: count ?? 1 }, (_, i) => macPlus(mac, i));
      const t0 = performance.now();
      const results = await Promise.all(
        macs.map((m) =>
          bootPhone({
            server: o.server,
            model: o.model,
            mac: m,
            group,
            running: o.running,
            script: o.script,
            user: o.user,
            password: o.password,
            stateDir: resolve(o.state),
            ...tlsFromOptions(o),
          }),
        ),
      );
      const seconds = (performance.now() - t0) / 1000;
      if (count === undefined) {
        console.log(o.json ? JSON.stringify(results[0]) : describe(results[0]!));
      } else {
        const summary = {
          phones: results.length,
          failed: results.filter((r) => !r.ok).length,
          downloaded: results.reduce((n, r) => n + r.downloaded.length, 0),
          bytes: results.reduce((n, r) => n + r.bytes, 0),
          seconds: Number(seconds.toFixed(3)),
        };
        console.log(
          o.json
            ? JSON.stringify(summary)
            : `${summary.phones} phones, ${summary.failed} failed, ${summary.downloaded} binaries downloaded, ${summary.bytes} bytes, ${summary.seconds} s`,
        );
        for (const r of results.filter((x) => !x.ok).slice(0, 5)) console.log(`  failure ${r.mac}: ${r.error}`);
      }
      if (results.some((r) => !r.ok)) process.exitCode = 1;
      if (o.sipPort !== undefined) {
        if (count !== undefined) throw new Error('--sip-port simulates one phone: leave out --count');
        await rebootOnCheckSync(o, () =>
          bootPhone({
            server: o.server,
            model: o.model,
            mac,
            group,
            script: o.script,
            user: o.user,
            password: o.password,
            stateDir: resolve(o.state),
            ...tlsFromOptions(o),
          }),
        );
      }
    });
}
