import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { unlockAccess } from '../admin/access-unlock.ts';
import { cliActor } from '../admin/audit.ts';
import { printTable, withCore } from './context.ts';

/** access locks | unlock: the devices and addresses the password-guessing guard holds back. */
export function accessCommands(program: Command, adapters: readonly Adapter[]): void {
  const access = program.command('access').description('failed device logins: back-off and temporary locks');

  access
    .command('locks')
    .description('devices and client addresses with failed logins on record, locked ones first')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const list = core.guard.list();
        if (o.json) return console.log(JSON.stringify(list, null, 2));
        if (list.length === 0) return console.log('no failed logins on record');
        printTable(
          list.map((l) => ({ ...l, lockedUntil: l.lockedUntil ?? '-', backoffUntil: l.backoffUntil ?? '-' })),
          ['kind', 'subject', 'failures', 'lockedUntil', 'backoffUntil', 'lastFailure', 'adapter', 'lastReason'],
        );
      });
    });

  access
    .command('unlock')
    .argument('<subject>', 'a device id or a client address')
    .description('forget the failed logins of a device or an address, lifting its lock or back-off at once (also for a running server)')
    .option('--json', 'print JSON')
    .action(async (subject: string, o: { json?: boolean }, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const cleared = unlockAccess(core, subject, cliActor());
        if (o.json) return console.log(JSON.stringify({ subject, cleared }));
        console.log(`cleared the failed logins of ${subject}`);
      });
    });
}
