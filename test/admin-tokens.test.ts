import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cliActor } from '../src/admin/audit.ts';
import { verifyAdminToken } from '../src/transport/admin-auth.ts';
import { apsCli } from './helpers/cli.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

interface TokenRow {
  name: string;
  scope: string;
  source: string;
  createdBy: string;
  lastUsedAt: string | null;
  token?: string;
}

describe('admin tokens: named, read or full, revocable, stored hashed (CLI and API against one server)', () => {
  let s: TestServer;
  const { aps, fails } = apsCli(() => ({ ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' }));
  const call = (token: string, path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${s.http}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
  const issued: string[] = [];

  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s.stop();
  });

  it('the configured token still works, as a full token named "config"', async () => {
    assert.equal((await fetch(`${s.http}/api/v1/devices`, { headers: { authorization: s.auth } })).status, 200);
    assert.deepEqual(verifyAdminToken(s.core, s.adminToken), { name: 'config', scope: 'full' });
    assert.equal(verifyAdminToken(s.core, 'aps_not-a-token'), undefined);
    assert.equal(verifyAdminToken(s.core, ''), undefined);
  });

  it('aps token create prints the token once; a read token may GET and gets 403 on POST and DELETE', async () => {
    const { stdout, stderr } = await aps('token', 'create', 'monitor', '--scope', 'read');
    const read = stdout.trim();
    issued.push(read);
    assert.match(read, /^aps_[A-Za-z0-9_-]{43}$/);
    assert.match(stderr, /token monitor \(read\) created/);

    assert.equal((await call(read, '/devices')).status, 200);
    assert.equal((await call(read, '/audit')).status, 200);
    const post = await call(read, '/devices', { method: 'POST', body: JSON.stringify({ id: 'r1', profile: 'vop' }) });
    assert.equal(post.status, 403);
    assert.equal(post.headers.get('www-authenticate'), 'Bearer realm="aps", error="insufficient_scope", scope="full"');
    assert.equal(((await post.json()) as { error: string }).error, 'forbidden');
    assert.equal((await call(read, '/devices/r1', { method: 'DELETE' })).status, 403);
    assert.equal((await call(read, '/artifacts/1', { method: 'DELETE' })).status, 403);
    // The token list is for full tokens only, even to read.
    assert.equal((await call(read, '/tokens')).status, 403);
    assert.equal(s.core.devices.get('r1'), undefined, 'nothing was written');
  });

  it('a full token made by the CLI changes things, and the change is recorded under its name', async () => {
    const { stdout } = await aps('token', 'create', 'ops', '--json');
    const created = JSON.parse(stdout) as TokenRow;
    issued.push(created.token!);
    assert.deepEqual([created.name, created.scope, created.createdBy], ['ops', 'full', cliActor()]);
    const r = await call(created.token!, '/devices', { method: 'POST', body: JSON.stringify({ id: 'by-ops', profile: 'vop' }) });
    assert.equal(r.status, 201);
    const [entry] = s.core.audit.list({ action: 'device.create', target: 'by-ops' });
    assert.equal(entry?.who, 'ops');
  });

  it('the API creates, lists (never a token) and revokes tokens; a revoked token is refused at once', async () => {
    const made = await call(s.adminToken, '/tokens', { method: 'POST', body: JSON.stringify({ name: 'ci', scope: 'full' }) });
    assert.equal(made.status, 201);
    assert.equal(made.headers.get('cache-control'), 'no-store');
    const ci = (await made.json()) as TokenRow;
    issued.push(ci.token!);
    assert.equal(ci.createdBy, 'config');
    assert.equal((await call(ci.token!, '/devices')).status, 200);

    const listText = await (await call(ci.token!, '/tokens')).text();
    const list = JSON.parse(listText) as TokenRow[];
    assert.deepEqual(
      list.map((t) => [t.name, t.scope, t.source]),
      [
        ['config', 'full', 'config'],
        ['ci', 'full', 'store'],
        ['monitor', 'read', 'store'],
        ['ops', 'full', 'store'],
      ],
    );
    assert.ok(list.find((t) => t.name === 'ci')?.lastUsedAt, 'last use is recorded');
    for (const t of [...issued, s.adminToken]) assert.ok(!listText.includes(t), 'no token in the list');

    assert.equal((await call(s.adminToken, '/tokens', { method: 'POST', body: JSON.stringify({ name: 'ci' }) })).status, 409);
    assert.equal((await call(s.adminToken, '/tokens', { method: 'POST', body: JSON.stringify({ name: 'config' }) })).status, 409);
    assert.equal((await call(s.adminToken, '/tokens', { method: 'POST', body: JSON.stringify({ name: 'x', scope: 'root' }) })).status, 400);
    assert.equal((await call(s.adminToken, '/tokens', { method: 'POST', body: JSON.stringify({ name: 'a b' }) })).status, 400);

    const revoked = await call(s.adminToken, '/tokens/ci', { method: 'DELETE' });
    assert.equal(revoked.status, 200);
    const refused = await call(ci.token!, '/devices');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="aps", error="invalid_token"');
    assert.equal((await call(s.adminToken, '/tokens/ci', { method: 'DELETE' })).status, 404);
    assert.equal((await call(s.adminToken, '/tokens/config', { method: 'DELETE' })).status, 400);
    assert.deepEqual(
      s.core.audit.list({ action: 'token', target: 'ci' }).map((e) => [e.action, e.who]),
      [
        ['token.revoke', 'config'],
        ['token.create', 'config'],
      ],
    );
  });

  it('aps token list never prints a token; aps token revoke refuses the running server at once', async () => {
    const { stdout } = await aps('token', 'list', '--json');
    const list = JSON.parse(stdout) as TokenRow[];
    assert.deepEqual(
      list.map((t) => t.name),
      ['monitor', 'ops'],
    );
    for (const t of issued) assert.ok(!stdout.includes(t));
    const table = (await aps('token', 'list')).stdout;
    assert.match(table, /^monitor\s+read\s+store/m);

    const ops = issued[1]!;
    assert.equal((await call(ops, '/devices')).status, 200);
    assert.match((await aps('token', 'revoke', 'ops')).stdout, /revoked token ops/);
    assert.equal((await call(ops, '/devices')).status, 401);
    await fails(['token', 'revoke', 'ops'], /no token ops/);
    await fails(['token', 'create', 'x', '--scope', 'admin'], /scope must be read or full/);
    const [entry] = s.core.audit.list({ action: 'token.revoke', target: 'ops' });
    assert.equal(entry?.who, cliActor());
  });

  it('the database holds no token text, only keyed hashes', () => {
    s.core.events.flush();
    const files = ['aps.sqlite', 'aps.sqlite-wal'].map((f) => join(s.dataDir, f)).filter((f) => existsSync(f));
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    assert.ok(bytes.length > 0);
    assert.equal(issued.length, 3);
    for (const t of issued) {
      assert.ok(!bytes.includes(t), 'token text in the database');
      assert.ok(!bytes.includes(t.slice(4)), 'token body in the database');
    }
    assert.ok(!bytes.includes(s.adminToken), 'the configured token is never stored');
    // What is kept for the one token still valid: a keyed hash (not even a plain sha256 of the token).
    const db = new Database(join(s.dataDir, 'aps.sqlite'), { readonly: true });
    try {
      const rows = db.prepare('SELECT name, hash FROM admin_tokens').all() as Array<{ name: string; hash: string }>;
      assert.deepEqual(
        rows.map((r) => r.name),
        ['monitor'],
      );
      assert.match(rows[0]!.hash, /^[0-9a-f]{64}$/);
      assert.notEqual(rows[0]!.hash, createHash('sha256').update(issued[0]!).digest('hex'));
    } finally {
      db.close();
    }
  });
});
