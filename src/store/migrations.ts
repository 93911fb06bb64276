// Schema history. Append only: a migration that has shipped is never edited, a change is a new entry.
// Triggers bump meta.generation on every change to what decides a device's files, so a running server
// notices CLI or API writes made by another process (or another node) with one cheap read per request.
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  INSERT INTO meta (key, value) VALUES ('generation', '0');

  CREATE TABLE artifacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('bootstrap', 'firmware', 'config', 'aux')),
    profile TEXT NOT NULL,
    models TEXT NOT NULL DEFAULT '[]',
    role TEXT NOT NULL DEFAULT '',
    device_id TEXT,
    version TEXT NOT NULL DEFAULT '',
    serial INTEGER,
    filename TEXT NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    origin TEXT NOT NULL,
    added_at TEXT NOT NULL
  );
  CREATE INDEX artifacts_profile_kind ON artifacts (profile, kind, role);
  CREATE INDEX artifacts_sha ON artifacts (sha256);

  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    profile TEXT NOT NULL,
    model TEXT,
    mac TEXT UNIQUE,
    grp TEXT,
    password_hash TEXT,
    password_enc TEXT,
    vars TEXT NOT NULL DEFAULT '{}',
    pins TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );

  CREATE TABLE groups (
    name TEXT PRIMARY KEY,
    vars TEXT NOT NULL DEFAULT '{}',
    pins TEXT NOT NULL DEFAULT '{}'
  );

  CREATE TABLE device_state (
    device_id TEXT PRIMARY KEY,
    last_seen TEXT,
    last_ip TEXT,
    last_ua TEXT,
    reported TEXT NOT NULL DEFAULT '{}',
    fetched TEXT NOT NULL DEFAULT '{}'
  );

  CREATE TABLE revisions (
    device_id TEXT NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    serial INTEGER NOT NULL,
    modified_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, file)
  );

  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    device_id TEXT,
    adapter TEXT NOT NULL,
    file TEXT NOT NULL,
    artifact_id INTEGER,
    revision INTEGER,
    bytes INTEGER NOT NULL DEFAULT 0,
    status INTEGER NOT NULL,
    ip TEXT,
    ua TEXT,
    detail TEXT
  );
  CREATE INDEX events_device ON events (device_id, id);

  CREATE TABLE kv (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_ms INTEGER,
    PRIMARY KEY (ns, key)
  );

  CREATE TRIGGER artifacts_ins AFTER INSERT ON artifacts BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER artifacts_upd AFTER UPDATE ON artifacts BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER artifacts_del AFTER DELETE ON artifacts BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER devices_ins AFTER INSERT ON devices BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER devices_upd AFTER UPDATE ON devices BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER devices_del AFTER DELETE ON devices BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER groups_ins AFTER INSERT ON groups BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER groups_upd AFTER UPDATE ON groups BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER groups_del AFTER DELETE ON groups BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  `,
  // 2: an APS before 2026-11 recorded a VOP's firmware download as "reported"; a VOP never reports what it
  // runs, so that value would outrank every later fetch in the fleet view. Devices that asked the VOP routes
  // (their events say so) or use the shipped vop profile lose that one key, once.
  `
  UPDATE device_state SET reported = json_remove(reported, '$.firmware')
  WHERE json_extract(reported, '$.firmware') IS NOT NULL
    AND device_id IN (
      SELECT device_id FROM events WHERE adapter = 'vop' AND device_id IS NOT NULL
      UNION SELECT id FROM devices WHERE profile = 'vop'
    );
  `,
  // 3: a fault the device itself reports (e.g. a TR-069 TransferComplete FaultCode) is recorded as that, not
  // as an HTTP status the server never sent: code and message as the device gave them, vendor-neutral text.
  `
  ALTER TABLE events ADD COLUMN fault_code TEXT;
  ALTER TABLE events ADD COLUMN fault_message TEXT;
  `,
  // 4: device backups (innovaphone scfg PUT, Avaya BRURI, TR-069 Upload). The bytes live under
  // <dataDir>/backups/; a row exists only once its file is in place, and goes with its device.
  `
  CREATE TABLE backups (
    device_id TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    slot INTEGER,
    at TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    remote TEXT,
    file TEXT NOT NULL,
    PRIMARY KEY (device_id, seq)
  );
  `,
  // 5: release policy and staged rollouts. A group may override its profiles' `release:`; an artifact is
  // released (a target for devices under `release: manual`) once a row here says so; every artifact that
  // exists now was a target under the old rules, so all are released. Rollouts and their devices are
  // state a restart must keep; writes to them change what devices get, so they bump the generation too.
  `
  ALTER TABLE groups ADD COLUMN release TEXT CHECK (release IN ('auto', 'manual'));

  CREATE TABLE artifact_releases (
    artifact_id INTEGER PRIMARY KEY REFERENCES artifacts (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    how TEXT NOT NULL
  );
  INSERT INTO artifact_releases (artifact_id, at, how) SELECT id, added_at, 'before release policies' FROM artifacts;

  CREATE TABLE rollouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    artifact_id INTEGER NOT NULL,
    profile TEXT NOT NULL,
    slot TEXT NOT NULL,
    groups TEXT NOT NULL DEFAULT '[]',
    stages TEXT NOT NULL,
    stage INTEGER NOT NULL DEFAULT 0,
    max_failures TEXT NOT NULL,
    timeout_s INTEGER NOT NULL,
    auto_promote INTEGER NOT NULL DEFAULT 0,
    acked_failures INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'halted', 'completed', 'aborted')),
    reason TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    stage_at TEXT NOT NULL
  );
  CREATE INDEX rollouts_state ON rollouts (state);

  CREATE TABLE rollout_devices (
    rollout_id INTEGER NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    stage INTEGER NOT NULL,
    previous_id INTEGER,
    assigned_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    detail TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (rollout_id, device_id)
  );
  CREATE INDEX rollout_devices_device ON rollout_devices (device_id);

  CREATE TRIGGER releases_ins AFTER INSERT ON artifact_releases BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER releases_del AFTER DELETE ON artifact_releases BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER rollouts_ins AFTER INSERT ON rollouts BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER rollouts_upd AFTER UPDATE ON rollouts BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER rollout_devices_ins AFTER INSERT ON rollout_devices BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER rollout_devices_upd AFTER UPDATE ON rollout_devices BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  `,
  // 6: maintenance windows. What each device holds (the artifact it last fetched completely per slot, and
  // the bytes of each rendered file it was last given), so a poll outside its window changes nothing; and
  // the `window:` a group overrides its profile's with. Held rows never bump the generation (they are
  // written by device requests, and no cache depends on them); group windows do (rendered files show them).
  // Seeded from what devices already fetched, so an upgrade does not make every device "new".
  `
  CREATE TABLE window_held (
    device_id TEXT NOT NULL,
    key TEXT NOT NULL,
    artifact_id INTEGER,
    sha256 TEXT NOT NULL,
    bytes BLOB,
    first_at TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (device_id, key)
  );
  CREATE TRIGGER window_held_device_del AFTER DELETE ON devices BEGIN DELETE FROM window_held WHERE device_id = old.id; END;
  INSERT OR IGNORE INTO window_held (device_id, key, artifact_id, sha256, bytes, first_at, at)
    SELECT s.device_id, 'slot:' || a.kind || CASE WHEN a.role <> '' THEN ':' || a.role ELSE '' END, a.id, a.sha256, NULL,
           json_extract(f.value, '$.at'), json_extract(f.value, '$.at')
    FROM device_state s, json_each(s.fetched) f
    JOIN artifacts a ON a.id = json_extract(f.value, '$.artifactId')
    WHERE json_extract(f.value, '$.at') IS NOT NULL
    ORDER BY json_extract(f.value, '$.at') DESC;

  CREATE TABLE group_windows (name TEXT PRIMARY KEY, window TEXT NOT NULL);
  CREATE TRIGGER group_windows_ins AFTER INSERT ON group_windows BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER group_windows_upd AFTER UPDATE ON group_windows BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  CREATE TRIGGER group_windows_del AFTER DELETE ON group_windows BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  `,
  // 7: every run of an upstream source (aps sync, POST /sources/:name/sync, a schedule), for the history. A
  // 'running' row is also the lock that keeps two processes from syncing one source at once; per-file results
  // (unchanged files only counted) and pruned artifacts are JSON in `detail`.
  `
  CREATE TABLE IF NOT EXISTS source_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    type TEXT NOT NULL,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed', 'interrupted')),
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    duration_ms INTEGER,
    added INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    unmapped INTEGER NOT NULL DEFAULT 0,
    pruned INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX IF NOT EXISTS source_runs_source ON source_runs (source, id);
  `,
  // 8: admin access. Named admin tokens (scope read or full), stored as a keyed hash, never as text; and the
  // audit log of admin changes: who (token name or cli:<os user>), when, what, target, before/after JSON
  // (secrets masked before they are written).
  `
  CREATE TABLE admin_tokens (
    name TEXT PRIMARY KEY,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'full')),
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at TEXT
  );

  CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after TEXT
  );
  CREATE INDEX audit_at ON audit (at);
  CREATE INDEX audit_who ON audit (who, id);
  `,
  // 9: rendered files held for a maintenance window were stored in clear (SIP passwords among them). They are
  // sealed now (AES-GCM, data/secret.key, src/windows/gate.ts), and SQL has no key to seal the old ones with:
  // their bytes are dropped (the sha256 stays), zeroed on disk so neither the file nor a backup keeps them.
  // A device outside its window is given a fresh render of a file whose bytes were dropped, once.
  `
  PRAGMA secure_delete = ON;
  UPDATE window_held SET bytes = NULL WHERE bytes IS NOT NULL;
  PRAGMA secure_delete = OFF;
  `,
  // 10: how many devices of a family wait for approval is asked on every request of an unknown device (a cap
  // on self-registration); an index over just the pending ones answers it without reading the table.
  `
  CREATE INDEX devices_pending ON devices (profile) WHERE status = 'pending';
  `,
  // 11: a rollout device's health moving from pending to succeeded changes nobody's target (only a failed
  // device is held back from the artifact, src/catalog rolloutView), yet the trigger of migration 5 moved the
  // generation on every update, so each success of a big rollout emptied every cache keyed by it.
  `
  DROP TRIGGER rollout_devices_upd;
  CREATE TRIGGER rollout_devices_upd AFTER UPDATE ON rollout_devices
    WHEN (NEW.status = 'failed') <> (OLD.status = 'failed') OR NEW.stage IS NOT OLD.stage OR NEW.previous_id IS NOT OLD.previous_id
      OR NEW.rollout_id IS NOT OLD.rollout_id OR NEW.device_id IS NOT OLD.device_id
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'generation'; END;
  `,
];
