import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import express, { type Request, type Router } from 'express';
import multer from 'multer';
import { z } from 'zod';
import { backupNumber } from '../backups/backup-store.ts';
import { backupVolatileOf } from '../backups/volatile.ts';
import { artifactsWithTargets } from '../catalog/artifact-targets.ts';
import { assertKind } from '../catalog/catalog.ts';
import { addArtifact } from '../catalog/artifact-audit.ts';
import { retireArtifact } from '../catalog/retire.ts';
import type { Core } from '../core.ts';
import { describeDevice, maskPreview, previewDevice } from '../devices/describe.ts';
import { saveDevice } from '../devices/device-audit.ts';
import { fleetView } from '../devices/fleet.ts';
import { notifyDevice } from '../devices/notify-device.ts';
import { removeDevice } from '../devices/remove-device.ts';
import { maskVars } from '../devices/secret-vars.ts';
import { ApsError } from '../errors.ts';
import { rolloutsApi } from './api-rollouts.ts';
import { actor, adminAuth, adminIdentity, requireFullScope } from './admin-auth.ts';
import { intQuery, parseBody } from './api-input.ts';
import { auditApi } from './api-audit.ts';
import { tokensApi } from './api-tokens.ts';
import { sourcesApi } from './api-sources.ts';
import { eventStreamApi } from './api-event-stream.ts';
import { listApi } from './api-lists.ts';
import { sessionAuth, sessionRoutes, type ConsoleSessions } from './console-session.ts';
import { loginPage } from './console-ui.ts';
import { accessApi } from './api-access.ts';

const deviceBody = z
  .object({
    id: z.string().optional(),
    profile: z.string().optional(),
    model: z.string().nullable().optional(),
    mac: z.string().nullable().optional(),
    group: z.string().nullable().optional(),
    password: z.string().nullable().optional(),
    vars: z.record(z.string(), z.string().nullable()).optional(),
    pins: z.record(z.string(), z.number().int().nullable()).optional(),
    status: z.enum(['active', 'pending']).optional(),
  })
  .strict();

function id(req: Request): string {
  return String(req.params.id);
}

/**
 * The admin REST API under /api/v1: artifacts, devices, groups, events, fleet, profiles, tokens, audit.
 * Every change is recorded in the audit log by the shared operation it calls, `who` being the token's name.
 */
export function adminApi(core: Core, sessions: ConsoleSessions): Router {
  const r = express.Router();
  const uploads = join(core.config.dataDir, 'uploads');
  // Owner-only folder: multer opens its files with the process umask's mode (`aps serve` sets 077). Named
  // `<pid>-…`, so one a killed server leaves is removed by sweepLeftovers (src/data-folder.ts).
  mkdirSync(uploads, { recursive: true, mode: 0o700 });
  const storage = multer.diskStorage({
    destination: uploads,
    filename: (_req, _file, cb) => cb(null, `${process.pid}-${randomBytes(8).toString('hex')}`),
  });
  const upload = multer({ storage, limits: { fileSize: 4 * 1024 ** 3, files: 1, fields: 20 } });

  // Console log-in and -out; then the console's cookie, which adminAuth keeps (applying its scope) like a token.
  r.use(sessionRoutes(sessions, loginPage, core.guard));
  r.use(sessionAuth(sessions));
  r.use(adminAuth(core));
  r.use(express.json({ limit: '1mb' }));
  r.use('/tokens', tokensApi(core));
  r.use('/audit', auditApi(core));
  r.use(listApi(core));
  r.use(eventStreamApi(core, sessions));
  r.use(accessApi(core));

  r.get('/artifacts', (req, res) => {
    res.json(artifactsWithTargets(core, typeof req.query.profile === 'string' ? req.query.profile : undefined));
  });
  // multer/busboy errors (a second file, another field name, a cut-off body) are the client's: a 400
  // (413 for a file over the limit) with multer's message, never a 500 with a stack in the log.
  const uploadOne: express.RequestHandler = (req, res, next) => {
    upload.single('file')(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { code?: string; message?: string };
      next(new ApsError(e.code === 'LIMIT_FILE_SIZE' ? 'too_large' : 'bad_request', `upload: ${e.message ?? 'malformed multipart body'}`));
    });
  };
  r.post('/artifacts', uploadOne, async (req, res) => {
    const file = req.file;
    try {
      if (!file) throw new ApsError('bad_request', 'multipart field "file" is required');
      const f = req.body as Record<string, string | undefined>;
      const serial = f.serial === undefined || f.serial === '' ? null : Number(f.serial);
      const added = await addArtifact(
        core,
        { path: file.path },
        {
          kind: assertKind(f.kind ?? ''),
          profile: core.profiles.require(f.profile ?? '').name,
          version: f.version,
          serial,
          role: f.role,
          deviceId: f.device || null,
          models: (f.models ?? '')
            .split(',')
            .map((m) => m.trim())
            .filter(Boolean),
          filename: f.filename || file.originalname,
          origin: 'upload',
        },
        actor(res),
      );
      const { artifact, existing, warning } = added;
      // Bytes already filling the slot: the artifact holding them, 200 and existing: true (nothing created).
      res.status(existing ? 200 : 201).json({ ...artifact, existing, ...(warning ? { warning } : {}) });
    } finally {
      if (file) await rm(file.path, { force: true });
    }
  });
  r.delete('/artifacts/:id', async (req, res) => {
    if (!/^\d{1,15}$/.test(id(req))) throw new ApsError('not_found', `no artifact ${id(req)}`);
    const force = req.query.force === '1' || req.query.force === 'true';
    const { artifact, moved } = await retireArtifact(core, Number(id(req)), force, actor(res));
    res.json({ ...artifact, moved });
  });

  r.get('/devices/:id', (req, res) => {
    const d = core.devices.get(id(req));
    if (!d) throw new ApsError('not_found', `no device ${id(req)}`);
    res.json(describeDevice(core, d));
  });
  r.post('/devices', async (req, res) => {
    const b = parseBody(deviceBody, req.body);
    if (!b.id) throw new ApsError('bad_request', 'id is required');
    res.status(201).json(describeDevice(core, await saveDevice(core, { ...b, id: b.id }, 'create', actor(res))));
  });
  r.put('/devices/:id', async (req, res) => {
    const b = parseBody(deviceBody, req.body);
    res.json(describeDevice(core, await saveDevice(core, { ...b, id: id(req) }, 'upsert', actor(res))));
  });
  r.patch('/devices/:id', async (req, res) => {
    const b = parseBody(deviceBody, req.body);
    res.json(describeDevice(core, await saveDevice(core, { ...b, id: id(req) }, 'update', actor(res))));
  });
  r.delete('/devices/:id', async (req, res) => {
    await removeDevice(core, id(req), actor(res));
    res.status(204).end();
  });
  r.get('/devices/:id/preview', (req, res) => {
    const d = core.devices.get(id(req));
    if (!d) throw new ApsError('not_found', `no device ${id(req)}`);
    const files = previewDevice(core, d);
    // ?mask=1: the console shows secrets only when the admin asks to reveal them. A read token never sees them.
    const mask = req.query.mask === '1' || adminIdentity(res).scope !== 'full';
    res.json(mask ? maskPreview(core, d, files) : files);
  });
  r.post('/devices/:id/notify', async (req, res) => {
    res.json(await notifyDevice(core, id(req), actor(res)));
  });

  // Backups: what devices uploaded about themselves. The bytes hold device secrets: a read token sees the
  // list (number, time, size) but neither the bytes nor a diff of them.
  r.get('/devices/:id/backups', (req, res) => {
    res.json(core.backups.list(core.devices.require(id(req)).id));
  });
  r.get('/devices/:id/backups/diff', requireFullScope, (req, res) => {
    const d = core.devices.require(id(req));
    const text = core.backups.diff(d.id, backupNumber(req.query.a, 'a'), backupNumber(req.query.b, 'b'), backupVolatileOf(core, d));
    res.type('text/x-diff; charset=utf-8').send(text);
  });
  r.get('/devices/:id/backups/:seq', requireFullScope, (req, res) => {
    const d = core.devices.require(id(req));
    const seq = backupNumber(req.params.seq, 'seq')!;
    const bytes = core.backups.read(d.id, seq);
    res.set('Cache-Control', 'no-store').type('application/octet-stream').send(bytes);
  });
  r.post('/devices/:id/backups/:seq/restore', requireFullScope, async (req, res) => {
    const d = core.devices.require(id(req));
    res.json(await core.backups.restore(d.id, backupNumber(req.params.seq, 'seq')!, actor(res)));
  });

  r.get('/groups', (_req, res) => {
    res.json(core.devices.groups().map((g) => ({ ...g, vars: maskVars(g.vars) })));
  });
  r.get('/fleet', (req, res) => {
    core.events.flush();
    const after = typeof req.query.after === 'string' && req.query.after !== '' ? req.query.after : undefined;
    res.json(fleetView(core, { after, limit: intQuery(req.query.limit, 'limit') }));
  });
  r.use('/sources', sourcesApi(core));
  r.get('/profiles', (_req, res) => {
    res.json(core.profiles.list().map((p) => ({ name: p.name, adapter: p.adapter, description: p.description, models: p.models })));
  });
  r.use('/rollouts', rolloutsApi(core));
  return r;
}
