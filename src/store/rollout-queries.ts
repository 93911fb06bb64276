import type { Db } from './db.ts';
import { parseJson } from './db.ts';

export type RolloutState = 'running' | 'paused' | 'halted' | 'completed' | 'aborted';
export type RolloutDeviceStatus = 'pending' | 'succeeded' | 'failed';

export interface RolloutRecord {
  id: number;
  artifactId: number;
  profile: string;
  /** The target slot the artifact fills (`firmware`, `aux:cpt`…). */
  slot: string;
  groups: string[];
  /** Percentages, increasing, the last 100. */
  stages: number[];
  /** Index into `stages` of the stage now running. */
  stage: number;
  /** `5%` or a count (`3`): more failures than this halt the rollout. */
  maxFailures: string;
  timeoutSeconds: number;
  autoPromote: boolean;
  /** Failures an admin promoted past (a halted rollout promoted anyway): not counted against the threshold again. */
  ackedFailures: number;
  state: RolloutState;
  /** Why it halted, was aborted or completed. */
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  /** When the current stage began. */
  stageAt: string;
}

export interface RolloutDeviceRecord {
  rolloutId: number;
  deviceId: string;
  /** The stage index that selected it. */
  stage: number;
  /** Its target in the slot before the rollout, null when it had none. */
  previousId: number | null;
  assignedAt: string;
  status: RolloutDeviceStatus;
  /** What decided the status (the fault, the version reported, the timeout). */
  detail: string | null;
  updatedAt: string;
}

interface RolloutRow {
  id: number;
  artifact_id: number;
  profile: string;
  slot: string;
  groups: string;
  stages: string;
  stage: number;
  max_failures: string;
  timeout_s: number;
  auto_promote: number;
  acked_failures: number;
  state: RolloutState;
  reason: string | null;
  created_at: string;
  updated_at: string;
  stage_at: string;
}

interface DeviceRow {
  rollout_id: number;
  device_id: string;
  stage: number;
  previous_id: number | null;
  assigned_at: string;
  status: RolloutDeviceStatus;
  detail: string | null;
  updated_at: string;
}

function toRollout(r: RolloutRow): RolloutRecord {
  return {
    id: r.id,
    artifactId: r.artifact_id,
    profile: r.profile,
    slot: r.slot,
    groups: parseJson<string[]>(r.groups, [], `rollouts.groups of ${r.id}`),
    stages: parseJson<number[]>(r.stages, [100], `rollouts.stages of ${r.id}`),
    stage: r.stage,
    maxFailures: r.max_failures,
    timeoutSeconds: r.timeout_s,
    autoPromote: r.auto_promote === 1,
    ackedFailures: r.acked_failures,
    state: r.state,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    stageAt: r.stage_at,
  };
}

function toDevice(r: DeviceRow): RolloutDeviceRecord {
  return {
    rolloutId: r.rollout_id,
    deviceId: r.device_id,
    stage: r.stage,
    previousId: r.previous_id,
    assignedAt: r.assigned_at,
    status: r.status,
    detail: r.detail,
    updatedAt: r.updated_at,
  };
}

/** Rollouts, the devices each selected, and which artifacts are released (targets under `release: manual`). */
export class RolloutQueries {
  private readonly db: Db;
  private readonly changed: () => void;

  constructor(db: Db, changed: () => void) {
    this.db = db;
    this.changed = changed;
  }

  insert(r: Omit<RolloutRecord, 'id'>): RolloutRecord {
    const info = this.db
      .prepare(
        `INSERT INTO rollouts (artifact_id, profile, slot, groups, stages, stage, max_failures, timeout_s, auto_promote, acked_failures,
           state, reason, created_at, updated_at, stage_at)
         VALUES (@artifactId, @profile, @slot, @groups, @stages, @stage, @maxFailures, @timeoutSeconds, @autoPromote, @ackedFailures,
           @state, @reason, @createdAt, @updatedAt, @stageAt)`,
      )
      .run({ ...r, groups: JSON.stringify(r.groups), stages: JSON.stringify(r.stages), autoPromote: r.autoPromote ? 1 : 0 });
    this.changed();
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): RolloutRecord | undefined {
    const r = this.db.prepare<[number], RolloutRow>('SELECT * FROM rollouts WHERE id = ?').get(id);
    return r && toRollout(r);
  }

  list(states?: readonly RolloutState[]): RolloutRecord[] {
    const rows = this.db.prepare<[], RolloutRow>('SELECT * FROM rollouts ORDER BY id').all();
    return rows.map(toRollout).filter((r) => !states || states.includes(r.state));
  }

  update(id: number, patch: Partial<Pick<RolloutRecord, 'stage' | 'state' | 'reason' | 'stageAt' | 'ackedFailures'>>, at: string): void {
    const r = this.get(id);
    if (!r) return;
    const n = { ...r, ...patch };
    this.db
      .prepare('UPDATE rollouts SET stage = ?, state = ?, reason = ?, stage_at = ?, acked_failures = ?, updated_at = ? WHERE id = ?')
      .run(n.stage, n.state, n.reason, n.stageAt, n.ackedFailures, at, id);
    this.changed();
  }

  devices(rolloutId: number): RolloutDeviceRecord[] {
    return this.db
      .prepare<[number], DeviceRow>('SELECT * FROM rollout_devices WHERE rollout_id = ? ORDER BY device_id')
      .all(rolloutId)
      .map(toDevice);
  }

  /**
   * The device rows that still change target selection: those of active rollouts, failed ones (held back
   * from that artifact), and those a completed rollout limited to groups released the artifact to. A
   * finished rollout of a whole profile released its artifact to all, so its rows are history only.
   */
  selectionRows(): Array<RolloutDeviceRecord & { artifactId: number; slot: string; state: RolloutState }> {
    return this.db
      .prepare<[], DeviceRow & { artifact_id: number; slot: string; state: RolloutState }>(
        `SELECT d.*, r.artifact_id, r.slot, r.state FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout_id
         WHERE r.state IN ('running', 'paused', 'halted') OR d.status = 'failed' OR (r.state = 'completed' AND r.groups != '[]')`,
      )
      .all()
      .map((r) => ({ ...toDevice(r), artifactId: r.artifact_id, slot: r.slot, state: r.state }));
  }

  /** Adds a stage's devices (a row already there stays as it is); the generation moves once for the batch. */
  addDevices(rows: readonly RolloutDeviceRecord[]): void {
    if (rows.length === 0) return;
    const ins = this.db.prepare(
      `INSERT INTO rollout_devices (rollout_id, device_id, stage, previous_id, assigned_at, status, detail, updated_at)
       VALUES (@rolloutId, @deviceId, @stage, @previousId, @assignedAt, @status, @detail, @updatedAt)
       ON CONFLICT (rollout_id, device_id) DO NOTHING`,
    );
    this.db.transaction(() => {
      for (const d of rows) ins.run(d);
    })();
    this.changed();
  }

  setDeviceStatus(rolloutId: number, deviceId: string, status: RolloutDeviceStatus, detail: string | null, at: string): void {
    this.db
      .prepare('UPDATE rollout_devices SET status = ?, detail = ?, updated_at = ? WHERE rollout_id = ? AND device_id = ?')
      .run(status, detail, at, rolloutId, deviceId);
    this.changed();
  }

  released(): Set<number> {
    return new Set(
      this.db
        .prepare<[], { artifact_id: number }>('SELECT artifact_id FROM artifact_releases')
        .all()
        .map((r) => r.artifact_id),
    );
  }

  /** Takes back a release this rollout made (`how` as given to release()); others stay. */
  withdraw(artifactId: number, how: string): void {
    this.db.prepare('DELETE FROM artifact_releases WHERE artifact_id = ? AND how = ?').run(artifactId, how);
    this.changed();
  }

  release(artifactId: number, how: string, at: string): void {
    this.db
      .prepare('INSERT INTO artifact_releases (artifact_id, at, how) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
      .run(artifactId, at, how);
    this.changed();
  }
}
