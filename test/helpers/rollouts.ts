import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/config.ts';
import type { Rollout, RolloutDetail } from '../../src/rollouts/rollouts.ts';

export type { Rollout, RolloutDetail };
import { tempDir, type TestServer } from './server.ts';
import { until } from './until.ts';

/** A copy of the shipped profiles where the named ones say `release: manual`. */
export function manualProfiles(names: readonly string[]): string {
  const dir = tempDir('aps-manual-profiles-');
  cpSync(join(PACKAGE_ROOT, 'profiles'), dir, { recursive: true });
  for (const n of names) appendFileSync(join(dir, `${n}.yaml`), '\nrelease: manual\n');
  return dir;
}

/**
 * The devices a stage at `percent` selects, computed here independently of src/rollouts/select.ts from
 * the documented rule: the first 48 bits of sha256("<rollout id>:<device id>") over 2^48, below percent/100.
 */
export function hashSelected(rolloutId: number, deviceIds: readonly string[], percent: number): string[] {
  return deviceIds
    .filter((id) => {
      const h = createHash('sha256').update(`${rolloutId}:${id}`).digest();
      return (h.readUIntBE(0, 6) / 2 ** 48) * 100 < percent;
    })
    .sort();
}

/** One admin API call; asserts the status, returns the JSON body. */
export async function api<T>(
  s: TestServer,
  method: string,
  path: string,
  body?: unknown,
  status = method === 'POST' && path === '/rollouts' ? 201 : 200,
): Promise<T> {
  const res = await fetch(`${s.http}/api/v1${path}`, {
    method,
    headers: { authorization: s.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T;
  assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

export const rolloutOf = (s: TestServer, id: number): Promise<RolloutDetail> => api<RolloutDetail>(s, 'GET', `/rollouts/${id}`);

/** Each artifact's status as the API's artifact list gives it. */
export async function artifactStatus(s: TestServer, id: number): Promise<string | undefined> {
  const list = await api<Array<{ id: number; status: string }>>(s, 'GET', '/artifacts');
  return list.find((a) => a.id === id)?.status;
}

/** Whether a device downloaded the artifact completely (from the event log). */
export function fetchedArtifact(s: TestServer, deviceId: string, artifactId: number): boolean {
  s.core.events.flush();
  return s.core.store.state.events({ deviceId, limit: 1000 }).some((e) => e.artifactId === artifactId && e.status === 200 && e.bytes > 0);
}

/** One poll of each device the rollout still waits for; returns the rollout as it is after them. */
async function pollPending(s: TestServer, id: number, poll: (deviceId: string) => Promise<void>): Promise<RolloutDetail> {
  for (const d of (await rolloutOf(s, id)).devices) if (d.status === 'pending') await poll(d.deviceId);
  return rolloutOf(s, id);
}

export interface StageToSuccess {
  artifactId: number;
  /** Every device of the family in the test (all `release: manual`). */
  devices: readonly string[];
  /** One poll (boot, check, session) of one device. */
  poll: (deviceId: string) => Promise<void>;
  /** Default 50,100. */
  stages?: string;
  /** Promote by itself (then the first stage's selection is not checked: stage 2 may follow at once). */
  autoPromote?: boolean;
}

/**
 * The path every adapter must take: a candidate is rolled out; at the first stage exactly the devices the
 * hash selects fetch it and the others do not; each selected device reports it and succeeds; the admin
 * promotes it (or it promotes itself) and it completes, and the artifact is then a target.
 */
export async function stageToSuccess(s: TestServer, o: StageToSuccess): Promise<Rollout> {
  assert.equal(await artifactStatus(s, o.artifactId), 'candidate');
  const stages = o.stages ?? '50,100';
  const first = Number(stages.split(',')[0]);
  const auto = o.autoPromote === true;
  const started = await api<Rollout>(s, 'POST', '/rollouts', { artifactId: o.artifactId, stages, autoPromote: auto, timeout: 60 });
  const selected = hashSelected(started.id, o.devices, first);
  const r1 = await rolloutOf(s, started.id);
  assert.deepEqual(
    r1.devices.map((d) => d.deviceId),
    selected,
    'stage 1 selects exactly the devices the hash selects',
  );
  if (first < 100 && !auto) {
    for (const id of o.devices) await o.poll(id);
    // The server records a download once its response has finished, which may be just after the client has
    // the last byte: wait for the selected devices' events, then check that nobody else has one.
    await until(
      'the selected devices fetched the artifact',
      () => Promise.resolve(selected.filter((id) => !fetchedArtifact(s, id, o.artifactId))),
      (missing) => missing.length === 0,
    );
    for (const id of o.devices.filter((x) => !selected.includes(x)))
      assert.equal(fetchedArtifact(s, id, o.artifactId), false, `${id} is not selected and did not fetch the artifact`);
    const stage1 = await until(
      'stage 1 done',
      () => pollPending(s, started.id, o.poll),
      (r) => r.counts.pending === 0,
    );
    for (const d of stage1.devices) assert.equal(d.status, 'succeeded', `${d.deviceId}: ${d.detail}`);
    assert.equal(stage1.state, 'running', 'waits for the admin at the end of a stage');
    await api(s, 'POST', `/rollouts/${started.id}/promote`);
  }
  const done = await until(
    `rollout ${started.id} completes`,
    () => pollPending(s, started.id, o.poll),
    (r) => r.state === 'completed' || r.state === 'halted',
    30_000,
  );
  assert.equal(done.state, 'completed', done.reason ?? '');
  assert.deepEqual(
    done.devices.map((d) => d.deviceId),
    [...o.devices].sort(),
  );
  for (const d of done.devices) assert.equal(d.status, 'succeeded', `${d.deviceId}: ${d.detail}`);
  assert.equal(await artifactStatus(s, o.artifactId), 'target');
  return done;
}
