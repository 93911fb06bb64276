import express, { type Request, type Router } from 'express';
import type { Core } from '../core.ts';
import { actor } from './admin-auth.ts';
import { ApsError } from '../errors.ts';
import { intQuery } from './api-input.ts';
import { describeSource, selectSources, sourceRunner, sourceRuns } from '../sources/sync.ts';

function sourceName(req: Request): string {
  return String(req.params.name);
}

/**
 * `/api/v1/sources`: the configured upstream sources, a sync started now (the same runner as `aps sync` and the
 * schedules, so a source never syncs twice at once: 409 while it runs), and each source's recorded runs.
 */
export function sourcesApi(core: Core): Router {
  const r = express.Router();
  r.get('/', (_req, res) => {
    res.json(core.config.sources.map((s) => describeSource(core, s)));
  });
  // 202 with the run's id at once (follow it under /runs/:id); `?wait=1` answers the finished run instead.
  r.post('/:name/sync', async (req, res) => {
    const [src] = selectSources(core, sourceName(req));
    // Audited by the runner when the run finishes, under the token's name.
    const { id, done } = sourceRunner(core).start(src!, { trigger: 'api', who: actor(res) });
    if (req.query.wait === '1' || req.query.wait === 'true') return void res.json(await done);
    res
      .status(202)
      .location(`${req.baseUrl}/${encodeURIComponent(src!.name)}/runs/${id}`)
      .json({ id, source: src!.name, status: 'running' });
  });
  // A source removed from aps.yaml keeps its history (what it added is still in the catalog); a name that is
  // neither configured nor in the history is a 404, not an empty list that reads as "never ran".
  r.get('/:name/runs', (req, res) => {
    const name = sourceName(req);
    const runs = sourceRuns(core, {
      source: name,
      limit: intQuery(req.query.limit, 'limit', 1000) ?? 50,
      before: intQuery(req.query.before, 'before'),
    });
    if (runs.length === 0 && !core.config.sources.some((s) => s.name === name) && sourceRuns(core, { source: name, limit: 1 }).length === 0)
      throw new ApsError('not_found', `no source "${name}" (configured: ${core.config.sources.map((s) => s.name).join(', ') || 'none'})`);
    res.json(runs);
  });
  r.get('/:name/runs/:id', (req, res) => {
    const id = intQuery(req.params.id, 'id');
    const run = id === undefined ? undefined : core.store.sourceRuns.get(id);
    if (!run || run.source !== sourceName(req))
      throw new ApsError('not_found', `no run ${String(req.params.id)} of source "${sourceName(req)}"`);
    const { detail, ...summary } = run;
    // A run of this server still going says which file it is at; one of another process has no progress here.
    const progress = run.status === 'running' ? { progress: sourceRunner(core).progressOf(run.id) ?? null } : {};
    res.json({ ...summary, ...progress, ...(detail as object) });
  });
  return r;
}
