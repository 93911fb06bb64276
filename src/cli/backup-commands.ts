import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { backupNumber } from '../backups/backup-store.ts';
import { backupVolatileOf } from '../backups/volatile.ts';
import { ApsError } from '../errors.ts';
import { printTable, withCore } from './context.ts';

/** backup list | show | diff | restore: the configurations devices uploaded about themselves. */
export function backupCommands(program: Command, adapters: readonly Adapter[]): void {
  const backup = program.command('backup').description('configuration backups devices uploaded about themselves');

  backup
    .command('list')
    .argument('<device>', 'device id')
    .description('the backups of a device, newest first')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        core.devices.require(id);
        const list = core.backups.list(id);
        if (o.json) return console.log(JSON.stringify(list, null, 2));
        printTable(
          list.map((b) => ({ ...b, sha256: b.sha256.slice(0, 16) })),
          ['seq', 'at', 'size', 'slot', 'name', 'remote', 'sha256'],
        );
      });
    });

  backup
    .command('show')
    .argument('<device>', 'device id')
    .argument('[n]', 'backup number (default: the latest)')
    .description('print the bytes of a backup as the device sent them')
    .action(async (id: string, n: string | undefined, _o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        core.devices.require(id);
        const seq = backupNumber(n) ?? core.backups.latest(id)?.seq;
        if (seq === undefined) throw new ApsError('not_found', `device ${id} has no backups`);
        process.stdout.write(core.backups.read(id, seq));
      });
    });

  backup
    .command('diff')
    .argument('<device>', 'device id')
    .argument('[a]', 'older backup number (default: the one before b)')
    .argument('[b]', 'newer backup number (default: the latest)')
    .description("unified diff of two backups, without the lines the device's adapter marks volatile (exit 0 either way)")
    .action(async (id: string, a: string | undefined, b: string | undefined, _o, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const d = core.devices.require(id);
        const text = core.backups.diff(id, backupNumber(a, 'A'), backupNumber(b, 'B'), backupVolatileOf(core, d));
        if (text === '') console.error('(no differences besides volatile lines)');
        else process.stdout.write(text);
      });
    });

  backup
    .command('restore')
    .argument('<device>', 'device id')
    .argument('<n>', 'backup number')
    .description("make a backup the device's own config: its next config request gets it")
    .option('--json', 'print JSON: the device, the backup number and the config artifact')
    .action(async (id: string, n: string, o: { json?: boolean }, cmd: Command) => {
      await withCore(cmd, adapters, async (core) => {
        core.devices.require(id);
        const a = await core.backups.restore(id, backupNumber(n)!, cliActor());
        if (o.json) return console.log(JSON.stringify({ device: id, backup: Number(n), artifact: a }, null, 2));
        console.log(`backup ${n} of ${id} is now its config (artifact ${a.id}, ${a.size} bytes, sha256 ${a.sha256})`);
      });
    });
}
