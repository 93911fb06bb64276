import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { previewDevice } from '../devices/describe.ts';
import { notifyDevice } from '../devices/notify-device.ts';
import { ApsError } from '../errors.ts';
import { printTable, withCore } from './context.ts';

/** preview, notify and events: looking at and poking one device. */
export function deviceOpsCommands(program: Command, adapters: readonly Adapter[]): void {
  program
    .command('preview')
    .argument('<device>', 'device id')
    .description('what the device would receive now')
    .option('--json', 'print JSON')
    .action(async (id: string, o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const d = core.devices.require(id);
        const files = previewDevice(core, d);
        if (o.json) return console.log(JSON.stringify(files, null, 2));
        for (const f of files) {
          const what = f.artifactId !== undefined ? `artifact ${f.artifactId}` : `serial ${f.serial ?? '-'}`;
          console.log(`=== ${f.name} (${f.contentType}, ${f.size} bytes, md5 ${f.md5}, ${what})`);
          if (f.text !== undefined) console.log(f.text);
        }
      });
    });

  program
    .command('notify')
    .argument('<device>', 'device id')
    .description('make the device check for updates now (SIP NOTIFY, connection request… per adapter)')
    .option('--json', 'print JSON: {device, ok, summary}')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      const ok = await withCore(cmd, adapters, async (core) => {
        const r = await notifyDevice(core, id, cliActor());
        console.log(o.json ? JSON.stringify({ device: id, ...r }, null, 2) : `${id}: ${r.summary}`);
        return r.ok;
      });
      if (!ok) process.exitCode = 2;
    });

  program
    .command('events')
    .description('recent device requests')
    .option('--device <id>', 'only this device')
    .option('--adapter <name>', 'only this adapter')
    .option('--limit <n>', 'how many (newest first)', '50')
    .option('--json', 'print JSON')
    .action(async (o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        if (!/^\d+$/.test(o.limit)) throw new ApsError('bad_request', `--limit must be a positive integer, not "${o.limit}"`);
        const list = core.store.state.events({ deviceId: o.device, adapter: o.adapter, limit: Number(o.limit) });
        if (o.json) return console.log(JSON.stringify(list, null, 2));
        const rows = list.map((e) => ({ ...e, fault: e.fault ? `${e.fault.code} ${e.fault.message}`.trim() : null }));
        printTable(rows as unknown as Array<Record<string, unknown>>, [
          'id',
          'at',
          'deviceId',
          'adapter',
          'file',
          'status',
          'bytes',
          'artifactId',
          'revision',
          'ip',
          'fault',
          'detail',
        ]);
      });
    });
}
