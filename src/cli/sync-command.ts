import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { cliActor } from '../admin/audit.ts';
import { ApsError } from '../errors.ts';
import type { SourceRunResult } from '../sources/result.ts';
import { rolloutSourceHooks } from '../rollouts/source-hook.ts';
import { assertSourceProfiles, describeSource, runSources, selectSources, sourceRunner, sourceRuns } from '../sources/sync.ts';
import { printTable, withCore } from './context.ts';
import { formatBytes, progressView } from './sync-progress.ts';

export function syncCommand(program: Command, adapters: readonly Adapter[]): void {
  program
    .command('sync')
    .argument('[source]', 'the source to sync (default: every configured source)')
    .description('fetch new artifacts from the configured sources (aps.yaml `sources`) now; --history lists past runs')
    .option('--json', 'print JSON (progress then goes to stderr as JSON lines)')
    .option('--history', 'list the recorded runs (of SOURCE, or of every source), newest first, instead of syncing')
    .option('--list', 'list the configured sources and their last run, instead of syncing')
    .option('--limit <n>', 'with --history: how many runs', '20')
    .option('--progress-interval <seconds>', 'without a terminal: a progress line every N seconds of a long transfer', '5')
    .action(async (name: string | undefined, o, cmd: Command) => {
      await withCore(cmd, adapters, async (core) => {
        if (o.history) {
          const limit = Number(o.limit);
          if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApsError('bad_request', '--limit must be 1-1000');
          const runs = sourceRuns(core, { source: name, limit });
          if (o.json)
            return console.log(
              JSON.stringify(
                runs.map((r) => ({ ...r, ...(core.store.sourceRuns.get(r.id)?.detail as object) })),
                null,
                2,
              ),
            );
          return printTable(
            runs.map((r) => ({
              ...r,
              started: r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
              duration: r.durationMs === null ? '' : `${(r.durationMs / 1000).toFixed(1)} s`,
              bytes: formatBytes(r.bytes),
            })),
            [
              'id',
              'source',
              'trigger',
              'status',
              'started',
              'duration',
              'added',
              'unchanged',
              'skipped',
              'failed',
              'unmapped',
              'pruned',
              'bytes',
              'error',
            ],
          );
        }
        if (core.config.sources.length === 0) throw new ApsError('not_found', 'no sources configured: add a `sources` list to aps.yaml');
        if (o.list) {
          const list = selectSources(core, name).map((s) => describeSource(core, s));
          if (o.json) return console.log(JSON.stringify(list, null, 2));
          return printTable(
            list.map((s) => {
              const last = s.lastRun as { status: string; startedAt: string } | null;
              return {
                ...s,
                where: s.type === 'sftp' ? `${String(s.host)}:${String(s.port)}${String(s.path)}` : s.path,
                last: last ? `${last.status} ${last.startedAt}` : '',
              };
            }),
            ['name', 'type', 'where', 'schedule', 'prune', 'checksums', 'last'],
          );
        }
        assertSourceProfiles(core);
        const seconds = Number(o.progressInterval);
        if (!Number.isFinite(seconds) || seconds < 0) throw new ApsError('bad_request', '--progress-interval must be a number of seconds');
        const view = progressView(o.json ? 'json' : process.stderr.isTTY ? 'bar' : 'lines', seconds * 1000);
        let results: SourceRunResult[];
        try {
          sourceRunner(core, rolloutSourceHooks(core));
          results = await runSources(core, selectSources(core, name), {
            trigger: 'cli',
            who: cliActor(),
            onProgress: (p) => view.onProgress(p),
          });
        } finally {
          view.stop();
        }
        // Exit code 2 like other partial failures: scripts and cron jobs can tell "ran, but not clean".
        if (results.some((r) => !r.ok)) process.exitCode = 2;
        if (o.json) return console.log(JSON.stringify(results, null, 2));
        for (const r of results) printRun(r);
      });
    });
}

function printRun(r: SourceRunResult): void {
  for (const f of r.files) {
    const to = f.profile ? ` to ${f.profile}` : '';
    if (f.status === 'added')
      console.log(`${r.source}: added ${f.file}${f.version ? ` ${f.version}` : ''}${to} (artifact ${f.artifactId})`);
    else if (f.status !== 'unchanged') console.log(`${r.source}: ${f.status} ${f.file}${to}: ${f.reason ?? ''}`);
  }
  for (const p of r.pruned)
    console.log(
      `${r.source}: ${p.status === 'retired' ? 'retired' : 'kept'} artifact ${p.artifactId} ${p.file}${p.reason ? `: ${p.reason}` : ' (gone upstream)'}`,
    );
  const counts = `${r.added} added, ${r.unchanged} unchanged, ${r.skipped} skipped, ${r.failed} failed, ${r.unmapped} unmapped, ${r.downloadedBytes} bytes fetched`;
  const run = r.id === null ? '' : ` (run ${r.id})`;
  console.log(r.error ? `${r.source}: ERROR ${r.error} (${counts})${run}` : `${r.source}: ${counts}${run}`);
}
