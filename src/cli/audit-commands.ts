import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { parseSince } from '../admin/audit.ts';
import { ApsError } from '../errors.ts';
import { printTable, withCore } from './context.ts';

/** aps audit: the admin changes (API and CLI), newest first. */
export function auditCommands(program: Command, adapters: readonly Adapter[]): void {
  program
    .command('audit')
    .description('admin changes: who (token name or cli:<user>), when, what, before and after (secrets masked)')
    .option('--since <when>', 'an age (30m, 12h, 7d) or a date/time (2026-11-30, 2026-11-30T08:00Z)')
    .option('--who <who>', 'only this token name or cli:<user>')
    .option('--action <action>', 'only this action (device.update) or family (device)')
    .option('--target <id>', 'only this device, artifact, token… id')
    .option('--limit <n>', 'how many (newest first)', '100')
    .option('--json', 'print JSON (with before and after)')
    .action(async (o: { since?: string; who?: string; action?: string; target?: string; limit: string; json?: boolean }, cmd: Command) => {
      await withCore(cmd, adapters, (core) => {
        if (!/^\d{1,6}$/.test(o.limit)) throw new ApsError('bad_request', `--limit must be a positive integer, not "${o.limit}"`);
        const list = core.audit.list({
          since: o.since === undefined ? undefined : parseSince(o.since),
          who: o.who,
          action: o.action,
          target: o.target,
          limit: Number(o.limit),
        });
        if (o.json) return console.log(JSON.stringify(list, null, 2));
        printTable(
          list.map((e) => ({ ...e, change: describeChange(e.before, e.after) })),
          ['id', 'at', 'who', 'action', 'target', 'change'],
        );
      });
    });
}

/** The keys whose values differ, `key: old → new`, short enough for a table cell; the JSON has everything. */
function describeChange(before: unknown, after: unknown): string {
  if (!isObject(before) || !isObject(after)) return '';
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const parts = keys
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => `${k}: ${short(before[k])} → ${short(after[k])}`);
  return parts.join('; ');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function short(v: unknown): string {
  const s = v === undefined ? '-' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
