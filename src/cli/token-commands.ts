import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { assertScope } from '../admin/tokens.ts';
import { printTable, withCore } from './context.ts';

/** token create | list | revoke: named admin API tokens (the running server sees changes at once). */
export function tokenCommands(program: Command, adapters: readonly Adapter[]): void {
  const token = program.command('token').description('admin API tokens: named, read or full scope, revocable');

  token
    .command('create')
    .argument('<name>', 'a name for who or what uses it (recorded as `who` in the audit log)')
    .option('--scope <scope>', 'read (GET only) or full', 'full')
    .option('--json', 'print JSON: the token record and `token`')
    .description('create a token and print it once: only its hash is kept')
    .action(async (name: string, o: { scope: string; json?: boolean }, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const { token: t, record } = core.tokens.create(name, assertScope(o.scope), cliActor());
        if (o.json) return console.log(JSON.stringify({ ...record, token: t }, null, 2));
        console.log(t);
        console.error(`token ${record.name} (${record.scope}) created; it is shown only now`);
      });
    });

  token
    .command('list')
    .option('--json', 'print JSON')
    .description('the tokens (never the tokens themselves), the configured one as "config"')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const list = core.tokens.list();
        if (o.json) return console.log(JSON.stringify(list, null, 2));
        printTable(list as unknown as Array<Record<string, unknown>>, ['name', 'scope', 'source', 'createdAt', 'createdBy', 'lastUsedAt']);
      });
    });

  token
    .command('revoke')
    .argument('<name>', 'token name')
    .option('--json', 'print JSON: the revoked token record')
    .description('revoke a token: the next request with it is refused')
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        const t = core.tokens.revoke(name, cliActor());
        console.log(o.json ? JSON.stringify(t, null, 2) : `revoked token ${t.name}`);
      });
    });
}
