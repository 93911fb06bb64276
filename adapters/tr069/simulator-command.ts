import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { addTlsOptions, tlsFromOptions, parseDuration } from '../../src/adapter-api.ts';
import { runCpeSession, type CpeOptions, type SessionResult } from './simulator.ts';
import { startConnectionRequestServer } from './simulator-cr.ts';
import type { FaultStruct } from './soap.ts';

function line(r: SessionResult): string {
  if (!r.ok) return `session FAILED: ${r.error}`;
  const dls = r.downloads.map((d) => `${d.fileType} ${d.commandKey} status ${d.status}`).join('; ') || 'none';
  const tcs = r.transferCompletes.map((t) => `${t.commandKey}=${t.faultCode}`).join(', ') || 'none';
  return `session ok: Inform [${r.informEvents.join(', ')}], ${r.challenges} challenge(s), downloads: ${dls}, TransferComplete: ${tcs}${r.rebooted ? ', rebooted' : ''}`;
}

/** `aps simulate tr069`: one session (or one every --every), optionally waiting for connection requests. */
/** --transfer-fault 9010 → the FaultStruct the simulated CPE reports (TR-069 A.5: 9001..9019 for transfers). */
function transferFault(code: string): FaultStruct {
  if (!/^9\d{3}$/.test(code)) throw new Error(`--transfer-fault "${code}" must be a CWMP fault code 9000..9999`);
  return { faultCode: Number(code), faultString: `simulated transfer failure ${code}` };
}

export function tr069SimulatorCommand(cmd: Command): void {
  addTlsOptions(cmd)
    .requiredOption('--acs <url>', 'ACS URL, e.g. http://host:8080/tr069')
    .requiredOption('--serial <s>', 'SerialNumber of the DeviceId')
    .option('--password <pw>', 'ManagementServer.Password', '')
    .option('--username <u>', 'ManagementServer.Username (default: the serial)')
    .option('--oui <hex>', 'OUI of the DeviceId', '00147F')
    .option('--product-class <pc>', 'ProductClass of the DeviceId', 'TG784')
    .option('--manufacturer <m>', 'Manufacturer of the DeviceId', 'THOMSON')
    .option('--software-version <v>', 'SoftwareVersion of a fresh state', '1.0')
    .option(
      '--state <file>',
      'JSON file keeping SoftwareVersion, config version and pending TransferCompletes between runs',
      '.aps-sim/tr069-state.json',
    )
    .option('--auth <mode>', 'digest: answer the ACS challenge; basic: send Basic with every message, unasked (genieacs-sim)', 'digest')
    .option('--ignore-download-credentials', "fetch Download URLs without the Download's credentials (genieacs-sim); non-200 is fault 9016")
    .option('--status0', 'fetch before answering the Download and answer Status 0')
    .option('--firmware-complete <when>', 'same|next: TransferComplete for firmware in the same or the next session', 'next')
    .option('--config-complete <when>', 'same|next: TransferComplete for config', 'same')
    .option('--transfer-fault <code>', 'every accepted transfer fails: TransferComplete with this FaultCode (e.g. 9010), nothing installed')
    .option('--gzip', 'gzip request bodies')
    .option('--connection-per-message', 'a new TCP connection per HTTP message (old firmware); default: one per session (TR-069 §3.4.2)')
    .option('--every <duration>', 'run a session every duration (periodic Inform)')
    .option('--listen', 'serve connection requests on 127.0.0.1 (needs --cr-username/--cr-password) and keep running')
    .option('--cr-username <u>', 'ConnectionRequestUsername', '')
    .option('--cr-password <pw>', 'ConnectionRequestPassword', '')
    .option('--json', 'print results as JSON')
    .action(async (o) => {
      const when = (v: string): 'same' | 'next' => {
        if (v !== 'same' && v !== 'next') throw new Error(`"${v}" must be same or next`);
        return v;
      };
      if (o.auth !== 'digest' && o.auth !== 'basic') throw new Error(`--auth "${o.auth}" must be digest or basic`);
      const statePath = resolve(o.state);
      const opts: CpeOptions = {
        acs: o.acs,
        serial: o.serial,
        password: o.password,
        username: o.username,
        oui: o.oui,
        productClass: o.productClass,
        manufacturer: o.manufacturer,
        statePath,
        status0: !!o.status0,
        gzip: !!o.gzip,
        auth: o.auth,
        connection: o.connectionPerMessage ? 'message' : 'session',
        ignoreDownloadCredentials: !!o.ignoreDownloadCredentials,
        ...tlsFromOptions(o),
        complete: { firmware: when(o.firmwareComplete), config: when(o.configComplete) },
        ...(o.transferFault !== undefined ? { transferFault: transferFault(o.transferFault) } : {}),
      };
      if (!existsSync(statePath))
        opts.state = { softwareVersion: o.softwareVersion, configVersion: '', bootstrapped: false, events: [], pending: [] };
      const print = (r: SessionResult): void => console.log(o.json ? JSON.stringify(r) : line(r));
      let running = Promise.resolve();
      const session = (events: string[] = []): Promise<void> =>
        (running = running.then(async () => {
          const r = await runCpeSession(opts, events);
          print(r);
          if (!r.ok) process.exitCode = 1;
        }));
      if (o.listen) {
        const cr = await startConnectionRequestServer({
          username: o.crUsername,
          password: o.crPassword,
          onRequest: () => void session(['6 CONNECTION REQUEST']),
        });
        opts.connectionRequestUrl = cr.url;
        console.log(`connection request URL: ${cr.url}`);
      }
      await session();
      if (o.every) setInterval(() => void session(['2 PERIODIC']), parseDuration(o.every));
      if (!o.every && !o.listen) await running;
    });
}
