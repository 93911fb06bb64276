// Staged rollouts: an artifact becomes the target of a growing, deterministic share of the devices that
// hold it back (`release: manual`), stage by stage, while each device's health is judged from what its
// adapter recorded. All state is in the store (src/store/rollout-queries.ts); each transition is an event.
import type { Core } from '../core.ts';
import { fits, slotKey } from '../catalog/catalog.ts';
import { ApsError } from '../errors.ts';
import { LOCKED, unlessLocked } from '../store/deferred-writes.ts';
import type { ArtifactRecord, DeviceRecord, RolloutDeviceRecord, RolloutRecord, RolloutState } from '../store/index.ts';
import { judgeHealth } from './health.ts';
import { recordRolloutChange, type RolloutVerb } from './rollout-audit.ts';
import { failuresExceed, formatSeconds, parseMaxFailures, parseStages, parseTimeout } from './options.ts';
import { selectedAt } from './select.ts';

/** What the rollout engine uses of the core (`audit`: each admin verb is recorded here, by the `who` its caller passes). */
export type RolloutCore = Pick<Core, 'store' | 'catalog' | 'devices' | 'events' | 'adapterOf' | 'log' | 'audit'>;

export interface StartRolloutInput {
  artifactId: number;
  /** Only devices of these groups (none: every device of the artifact's profile). */
  groups?: readonly string[];
  /** Percentages, e.g. "1,10,50,100" or [1, 10, 50, 100] (default). */
  stages?: string | readonly number[];
  /** "5%" (default) or a count. */
  maxFailures?: string | number;
  /** "6h" (default), "30m", or seconds. */
  timeout?: string | number;
  /** Promote by itself once a stage's devices are done (default: an admin promotes). */
  autoPromote?: boolean;
}

export interface RolloutCounts {
  devices: number;
  pending: number;
  succeeded: number;
  failed: number;
}

export interface Rollout extends RolloutRecord {
  /** The current stage's percentage. */
  percent: number;
  counts: RolloutCounts;
  /** timeoutSeconds as given to start (`6h`, `30m`, `45s`). */
  timeout: string;
  /** The same counts for each stage begun so far (index = stage): the devices that stage selected. */
  byStage: RolloutCounts[];
}

export interface RolloutDetail extends Rollout {
  devices: RolloutDeviceRecord[];
}

const ACTIVE: readonly RolloutState[] = ['running', 'paused', 'halted'];

/**
 * Starts a rollout of a candidate artifact: stage 1 selects its share of the eligible devices (the
 * artifact's profile, the given groups, `release: manual`, not pinned in the slot), which get it as target
 * at once. Refused while another rollout of the same profile and slot is active. Audited as `rollout.start` by
 * `who` (the CLI's user, the API token's name, `source:<name>` for a source's `rollout:` key).
 */
export function startRollout(core: RolloutCore, input: StartRolloutInput, who: string): Rollout {
  const a = core.catalog.get(input.artifactId);
  if (!a) throw new ApsError('not_found', `no artifact ${input.artifactId}`);
  if (a.deviceId !== null) throw new ApsError('bad_request', `artifact ${a.id} is device ${a.deviceId}'s own: it needs no rollout`);
  const stages = parseStages(input.stages);
  const maxFailures = parseMaxFailures(input.maxFailures);
  const timeoutSeconds = parseTimeout(input.timeout);
  const groups = [...new Set(input.groups ?? [])].sort();
  for (const g of groups) if (!core.devices.group(g)) throw new ApsError('not_found', `no group ${g}`);
  const slot = slotKey(a.kind, a.role);
  const r = core.store.transaction(() => {
    const busy = core.store.rollouts.list(ACTIVE).find((x) => x.profile === a.profile && x.slot === slot);
    if (busy)
      throw new ApsError(
        'conflict',
        `rollout ${busy.id} (${busy.state}) already changes ${slot} of profile ${a.profile}: abort or finish it first`,
      );
    const draft = { artifactId: a.id, profile: a.profile, slot, groups } as RolloutRecord;
    if (eligible(core, draft, a).length === 0)
      throw new ApsError(
        'bad_request',
        `no device of profile ${a.profile}${groups.length ? ` in group ${groups.join(', ')}` : ''} under release: manual fits artifact ${a.id} unpinned: nothing to roll out to`,
      );
    const at = new Date().toISOString();
    const rec = core.store.rollouts.insert({
      ...draft,
      stages,
      stage: 0,
      maxFailures,
      timeoutSeconds,
      autoPromote: input.autoPromote === true,
      ackedFailures: 0,
      state: 'running',
      reason: null,
      createdAt: at,
      updatedAt: at,
      stageAt: at,
    });
    const n = assignStage(core, rec, a, at);
    transition(
      core,
      rec,
      `started: artifact ${a.id} (${a.version || a.filename}), stages ${stages.join(',')} %, stage 1 at ${stages[0]} % selects ${n} devices`,
    );
    return rec;
  }, 'immediate');
  return audited(core, who, 'start', summary(core, core.store.rollouts.get(r.id)!));
}

export function listRollouts(core: RolloutCore): Rollout[] {
  return core.store.rollouts.list().map((r) => summary(core, r));
}

export function rolloutStatus(core: RolloutCore, id: number): RolloutDetail {
  const r = mustGet(core, id);
  return { ...summary(core, r), devices: core.store.rollouts.devices(id) };
}

/**
 * The next stage (its devices get the artifact now); from the last stage, completion. A halted rollout
 * may be promoted: the admin accepts its failures, which then no longer count against the threshold.
 */
export function promoteRollout(core: RolloutCore, id: number, who: string): Rollout {
  return audited(core, who, 'promote', promote(core, id));
}

/** promoteRollout's change, also made by the server's evaluation (auto-promote: no admin, not audited). */
function promote(core: RolloutCore, id: number): Rollout {
  core.store.transaction(() => {
    const r = mustGet(core, id);
    if (!ACTIVE.includes(r.state)) throw new ApsError('conflict', `rollout ${id} is ${r.state}`);
    const a = artifactOf(core, r);
    const failed = core.store.rollouts.devices(id).filter((d) => d.status === 'failed').length;
    const at = new Date().toISOString();
    if (r.stage === r.stages.length - 1) return complete(core, r, a, 'promoted past the last stage by admin');
    const next = {
      ...r,
      stage: r.stage + 1,
      state: 'running' as const,
      stageAt: at,
      ackedFailures: r.state === 'halted' ? failed : r.ackedFailures,
    };
    core.store.rollouts.update(
      id,
      { stage: next.stage, state: 'running', stageAt: at, ackedFailures: next.ackedFailures, reason: null },
      at,
    );
    const n = assignStage(core, next, a, at);
    transition(
      core,
      r,
      `promoted to stage ${next.stage + 1} at ${r.stages[next.stage]} %: ${n} more devices${r.state === 'halted' ? ` (past ${failed} failures)` : ''}`,
    );
  }, 'immediate');
  return summary(core, mustGet(core, id));
}

export function pauseRollout(core: RolloutCore, id: number, who: string): Rollout {
  return audited(core, who, 'pause', setState(core, id, ['running'], 'paused', 'paused by admin'));
}

export function resumeRollout(core: RolloutCore, id: number, who: string): Rollout {
  const r = mustGet(core, id);
  if (r.state === 'halted')
    throw new ApsError(
      'conflict',
      `rollout ${id} halted itself (${r.reason ?? 'failures'}): promote it to go on despite the failures, or abort it`,
    );
  return audited(core, who, 'resume', setState(core, id, ['paused'], 'running', 'resumed by admin'));
}

/** Stops the rollout: its devices' target is what it was before (they fetch it back); nothing is released. */
export function abortRollout(core: RolloutCore, id: number, who: string): Rollout {
  return audited(core, who, 'abort', abort(core, id, 'aborted by admin'));
}

/** abortRollout's change, also made by the server's evaluation (its artifact removed: no admin, not audited). */
function abort(core: RolloutCore, id: number, reason: string): Rollout {
  core.store.transaction(() => {
    const r = mustGet(core, id);
    if (!ACTIVE.includes(r.state)) throw new ApsError('conflict', `rollout ${id} is ${r.state}`);
    const at = new Date().toISOString();
    core.store.rollouts.update(id, { state: 'aborted', reason }, at);
    // Rollouts started before every adapter's were staged per device (a shared-script adapter's were one stage that released
    // the artifact at start) may still hold a release of their own: it goes with the abort.
    core.store.rollouts.withdraw(r.artifactId, `rollout ${id}`);
    const n = core.store.rollouts.devices(id).length;
    transition(core, r, `${reason}: its ${n} devices return to their previous target`);
  }, 'immediate');
  return summary(core, mustGet(core, id));
}

/** An admin verb's outcome, recorded once here whichever door (CLI, API, a source) called it. */
function audited(core: RolloutCore, who: string, verb: RolloutVerb, r: Rollout): Rollout {
  recordRolloutChange(core.audit, who, verb, r);
  return r;
}

/**
 * Judges the pending devices of every active rollout, then halts a running rollout whose failures pass its
 * threshold (saying which devices and why), promotes one whose stage is done (with auto-promote), and
 * completes one whose last stage is done. Returns the ids of the devices still pending (to watch).
 *
 * `server`: the server's ticker never waits for another process's write lock (device requests would wait
 * with it): it judges what the event sink has written by itself, and a rollout whose transaction the lock
 * keeps out is judged at the next tick or event. The CLI flushes first and waits.
 */
export function evaluateRollouts(core: RolloutCore, now = Date.now(), o: { server?: boolean } = {}): Set<string> {
  if (!o.server) core.events.flush();
  const watch = new Set<string>();
  for (const { id } of core.store.rollouts.list(ACTIVE)) {
    // Each rollout is judged in one write transaction on a fresh read: an abort, pause or promotion by another
    // process (the CLI) or another evaluator lands before or after it, never in the middle, so an aborted
    // rollout is never completed (released) or halted, and a stage is never promoted twice.
    const judge = (): void => core.store.transaction(() => evaluateOne(core, id, now, watch), 'immediate');
    if (!o.server) judge();
    else if (unlessLocked(core.store, judge) === LOCKED) {
      // Its devices stay watched: their next event (or the next tick) judges it again.
      for (const d of core.store.rollouts.devices(id)) if (d.status === 'pending') watch.add(d.deviceId);
    }
  }
  return watch;
}

function evaluateOne(core: RolloutCore, id: number, now: number, watch: Set<string>): void {
  const r = core.store.rollouts.get(id);
  if (!r || !ACTIVE.includes(r.state)) return;
  const a = core.catalog.get(r.artifactId);
  if (!a) {
    abort(core, r.id, `artifact ${r.artifactId} was removed`);
    return;
  }
  const health = core.adapterOf(r.profile).rolloutHealth;
  const at = new Date(now).toISOString();
  const rows = core.store.rollouts.devices(r.id);
  for (const d of rows) {
    if (d.status !== 'pending') continue;
    const state = core.devices.state(d.deviceId);
    const events = core.store.state
      .events({ deviceId: d.deviceId, since: d.assignedAt, limit: 1000 })
      .filter((e) => e.adapter !== 'rollout')
      .reverse();
    const v = judgeHealth({
      artifact: a,
      health,
      events,
      reported: state?.reported ?? {},
      assignedAt: d.assignedAt,
      timeoutSeconds: r.timeoutSeconds,
      now,
    });
    if (v.status === 'pending') {
      watch.add(d.deviceId);
      continue;
    }
    core.store.rollouts.setDeviceStatus(r.id, d.deviceId, v.status, v.detail, at);
    Object.assign(d, { status: v.status, detail: v.detail });
    deviceEvent(
      core,
      r,
      a,
      d.deviceId,
      `${v.status}: ${v.detail}${v.status === 'failed' ? `; its target is artifact ${d.previousId ?? '(none)'} again` : ''}`,
    );
  }
  if (r.state !== 'running') return;
  const failed = rows.filter((d) => d.status === 'failed');
  if (failuresExceed(r.maxFailures, failed.length - r.ackedFailures, rows.length)) {
    const which = failed.map((d) => `${d.deviceId} (${d.detail ?? 'failed'})`);
    const reason = `halted: ${failed.length} of ${rows.length} devices failed, more than max ${r.maxFailures}: ${which.slice(0, 10).join('; ')}${which.length > 10 ? `; and ${which.length - 10} more` : ''}`;
    core.store.rollouts.update(r.id, { state: 'halted', reason }, at);
    transition(core, r, reason);
    return;
  }
  if (rows.some((d) => d.status === 'pending')) return;
  if (r.stage === r.stages.length - 1) complete(core, r, a, `all ${rows.length} devices done`);
  else if (r.autoPromote) promote(core, r.id);
}

/** The devices a rollout may select: the artifact's profile and groups, `release: manual`, not pinned in the slot. */
function eligible(core: RolloutCore, r: Pick<RolloutRecord, 'profile' | 'slot' | 'groups'>, a: ArtifactRecord): DeviceRecord[] {
  const reachable = core.adapterOf(r.profile).rolloutHealth?.reachable ?? ((): boolean => true);
  return core.devices
    .list()
    .filter(
      (d) =>
        d.profile === r.profile &&
        reachable(d) &&
        d.status === 'active' &&
        fits(a, d) &&
        (r.groups.length === 0 || (d.group !== null && r.groups.includes(d.group))) &&
        core.catalog.releaseFor(d) === 'manual' &&
        core.catalog.pinned(d, r.slot) === undefined,
    );
}

/**
 * Adds the devices the current stage selects; returns how many. Every previous target is read before the
 * first row is written: each write moves the store generation, and a target read after it would rebuild
 * the catalog's rollout view per device (quadratic: 5,000 devices took minutes under the write lock).
 */
function assignStage(core: RolloutCore, r: RolloutRecord, a: ArtifactRecord, at: string): number {
  const have = new Set(core.store.rollouts.devices(r.id).map((d) => d.deviceId));
  const percent = r.stages[r.stage]!;
  const rows: RolloutDeviceRecord[] = eligible(core, r, a)
    .filter((d) => !have.has(d.id) && selectedAt(r.id, d.id, percent))
    .map((d) => ({
      rolloutId: r.id,
      deviceId: d.id,
      stage: r.stage,
      previousId: core.catalog.target(d, a.kind, a.role)?.id ?? null,
      assignedAt: at,
      status: 'pending',
      detail: null,
      updatedAt: at,
    }));
  core.store.rollouts.addDevices(rows);
  for (const d of rows)
    deviceEvent(
      core,
      r,
      a,
      d.deviceId,
      `stage ${r.stage + 1} (${percent} %): ${r.slot} target is artifact ${a.id}, was ${d.previousId ?? '(none)'}`,
    );
  return rows.length;
}

/** Done: without groups the artifact is released to the whole profile; with groups, to the devices it reached. */
function complete(core: RolloutCore, r: RolloutRecord, a: ArtifactRecord, why: string): void {
  const at = new Date().toISOString();
  const rows = core.store.rollouts.devices(r.id);
  const failed = rows.filter((d) => d.status === 'failed').length;
  const reason = `${why}: ${rows.length - failed} took it, ${failed} failed (they keep their previous target)`;
  if (r.groups.length === 0) core.store.rollouts.release(a.id, `rollout ${r.id}`, at);
  core.store.rollouts.update(r.id, { state: 'completed', reason }, at);
  transition(core, r, `completed: ${reason}${r.groups.length === 0 ? `; artifact ${a.id} released to profile ${r.profile}` : ''}`);
}

function setState(core: RolloutCore, id: number, from: readonly RolloutState[], to: RolloutState, why: string): Rollout {
  const r = mustGet(core, id);
  if (!from.includes(r.state)) throw new ApsError('conflict', `rollout ${id} is ${r.state}, not ${from.join(' or ')}`);
  core.store.rollouts.update(id, { state: to }, new Date().toISOString());
  transition(core, r, why);
  return summary(core, mustGet(core, id));
}

/** Each transition is an event of the rollout (no device: it is the rollout's own log line). */
function transition(core: RolloutCore, r: RolloutRecord, detail: string): void {
  core.events.record({ deviceId: null, adapter: 'rollout', file: `rollout:${r.id}`, status: 200, artifactId: r.artifactId, detail });
  core.log.info({ rollout: r.id, artifact: r.artifactId }, `rollout ${r.id}: ${detail}`);
}

/** One device's step in a rollout, in its event history; seen: false, as the device did not speak (its last-seen stays). */
function deviceEvent(core: RolloutCore, r: RolloutRecord, a: ArtifactRecord, deviceId: string, detail: string): void {
  core.events.record({ deviceId, adapter: 'rollout', file: `rollout:${r.id}`, status: 200, artifactId: a.id, seen: false, detail });
}

function mustGet(core: RolloutCore, id: number): RolloutRecord {
  const r = core.store.rollouts.get(id);
  if (!r) throw new ApsError('not_found', `no rollout ${id}`);
  return r;
}

function artifactOf(core: RolloutCore, r: RolloutRecord): ArtifactRecord {
  const a = core.catalog.get(r.artifactId);
  if (!a) throw new ApsError('conflict', `artifact ${r.artifactId} of rollout ${r.id} was removed: abort the rollout`);
  return a;
}

function summary(core: RolloutCore, r: RolloutRecord): Rollout {
  const rows = core.store.rollouts.devices(r.id);
  const counts = (of: readonly RolloutDeviceRecord[]): RolloutCounts => {
    const n = (s: RolloutDeviceRecord['status']): number => of.filter((d) => d.status === s).length;
    return { devices: of.length, pending: n('pending'), succeeded: n('succeeded'), failed: n('failed') };
  };
  return {
    ...r,
    percent: r.stages[r.stage] ?? 100,
    timeout: formatSeconds(r.timeoutSeconds),
    counts: counts(rows),
    byStage: Array.from({ length: Math.min(r.stage + 1, r.stages.length) }, (_, i) => counts(rows.filter((d) => d.stage === i))),
  };
}

/** One line for `rollout list`. */
export function describeRollout(r: Rollout): string {
  return `rollout ${r.id}: artifact ${r.artifactId} (${r.profile} ${r.slot}) ${r.state}, stage ${r.stage + 1}/${r.stages.length} at ${r.percent} %, ${r.counts.succeeded} succeeded, ${r.counts.failed} failed, ${r.counts.pending} pending (timeout ${formatSeconds(r.timeoutSeconds)}, max failures ${r.maxFailures})`;
}
