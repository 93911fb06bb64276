import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { ApsError } from '../errors.ts';
import { assertSourceProfiles, runSources, selectSources } from '../sources/sync.ts';
import { withCore } from './context.ts';

export function syncCommand(program: Command, adapters: readonly Adapter[]): void {
  program
    .command('sync')
    .argument('[source]', 'the source to sync (default: every configured source)')
    .description('fetch new artifacts from the configured sources (aps.yaml `sources`) now')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, o, cmd: Command) => {
      await withCore(cmd, adapters, async (core) => {
        if (core.config.sources.length === 0) throw new ApsError('not_found', 'no sources configured: add a `sources` list to aps.yaml');
        assertSourceProfiles(core);
        const results = await runSources(core, selectSources(core, name));
        const who = cliActor();
        for (const r of results) {
          const added = r.files.filter((f) => f.status === 'added').map((f) => f.artifactId);
          core.audit.record({
            who,
            action: 'source.sync',
            target: r.source,
            after: { ok: r.ok, added, unchanged: r.unchanged, skipped: r.skipped, failed: r.failed, error: r.error ?? null },
          });
        }
        // Exit code 2 like other partial failures: scripts and cron jobs can tell "ran, but not clean".
        if (results.some((r) => !r.ok)) process.exitCode = 2;
        if (o.json) return console.log(JSON.stringify(results, null, 2));
        for (const r of results) {
          for (const f of r.files) {
            if (f.status === 'added')
              console.log(`${r.source}: added ${f.file}${f.version ? ` ${f.version}` : ''} (artifact ${f.artifactId})`);
            else if (f.status !== 'unchanged') console.log(`${r.source}: ${f.status} ${f.file}: ${f.reason ?? ''}`);
          }
          const counts = `${r.added} added, ${r.unchanged} unchanged, ${r.skipped} skipped, ${r.failed} failed, ${r.downloadedBytes} bytes fetched`;
          console.log(r.error ? `${r.source}: ERROR ${r.error} (${counts})` : `${r.source}: ${counts}`);
        }
      });
    });
}
