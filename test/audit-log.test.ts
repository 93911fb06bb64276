import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliActor, maskSecrets, parseSince } from '../src/admin/audit.ts';
import { apsCli } from './helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

interface Entry {
  id: number;
  at: string;
  who: string;
  action: string;
  target: string;
  before: Record<string, any> | null;
  after: Record<string, any> | null;
}

describe('the audit log: API and CLI changes, who, before/after, secrets masked; aps audit and GET /audit', () => {
  let s: TestServer;
  let ops: string;
  const { aps, fails } = apsCli(() => ({ ...process.env, APS_DATA: s.dataDir, APS_LOG_LEVEL: 'silent' }));
  const api = (path: string, init: RequestInit = {}, token = ops): Promise<Response> =>
    fetch(`${s.http}/api/v1${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
    });
  const audit = async (query: string): Promise<Entry[]> => (await (await api(`/audit${query}`)).json()) as Entry[];
  const cliAudit = async (...args: string[]): Promise<Entry[]> => JSON.parse((await aps('audit', '--json', ...args)).stdout) as Entry[];
  const me = cliActor();

  before(async () => {
    s = await startTestServer();
    ops = s.core.tokens.create('ops', 'full', 'test').token;
  });
  after(async () => {
    await s.stop();
  });

  it('records API device changes under the token name, with before and after and no secret', async () => {
    const body = { id: 'alice', profile: 'vop', password: 'pw-Topsecret1', vars: { sip_password: 'sip-Clear-1', language: 'en' } };
    assert.equal((await api('/devices', { method: 'POST', body: JSON.stringify(body) })).status, 201);
    const patch = { group: 'berlin', password: 'pw-Topsecret2', vars: { sip_password: 'sip-Clear-2' } };
    assert.equal((await api('/devices/alice', { method: 'PATCH', body: JSON.stringify(patch) })).status, 200);
    // The same values again change nothing: no entry.
    assert.equal((await api('/devices/alice', { method: 'PATCH', body: JSON.stringify({ group: 'berlin' }) })).status, 200);

    const entries = await audit('?target=alice');
    assert.deepEqual(
      entries.map((e) => [e.action, e.who]),
      [
        ['device.update', 'ops'],
        ['device.create', 'ops'],
      ],
    );
    const [update, create] = entries as [Entry, Entry];
    assert.equal(create.before, null);
    assert.deepEqual(create.after?.vars, { language: 'en', sip_password: '********' });
    assert.equal(create.after?.hasPassword, true);
    assert.equal(update.before?.group, null);
    assert.equal(update.after?.group, 'berlin');
    assert.equal(update.after?.passwordChanged, true);
    assert.deepEqual(update.after?.secretsChanged, ['sip_password']);

    assert.equal((await api('/devices/alice', { method: 'DELETE' })).status, 204);
    const [removed] = await audit('?action=device.remove');
    assert.deepEqual([removed?.who, removed?.target, removed?.after, removed?.before?.profile], ['ops', 'alice', null, 'vop']);

    s.core.events.flush();
    const bytes = Buffer.concat(
      ['aps.sqlite', 'aps.sqlite-wal'].map((f) => join(s.dataDir, f)).flatMap((f) => (existsSync(f) ? [readFileSync(f)] : [])),
    );
    for (const secret of ['pw-Topsecret1', 'pw-Topsecret2', 'sip-Clear-1', 'sip-Clear-2']) assert.ok(!bytes.includes(secret), secret);
    assert.ok(!JSON.stringify(entries).includes('scrypt$'), 'no password hash in the log');
  });

  it('records artifact uploads and removals made through the API', async () => {
    const form = new FormData();
    form.set('file', new Blob([Buffer.from('firmware 9')]), 'fw9.bin');
    form.set('profile', 'vop');
    form.set('kind', 'firmware');
    form.set('version', '9');
    const up = await fetch(`${s.http}/api/v1/artifacts`, { method: 'POST', body: form, headers: { authorization: `Bearer ${ops}` } });
    assert.equal(up.status, 201);
    const { id } = (await up.json()) as { id: number };
    assert.equal((await api(`/artifacts/${id}`, { method: 'DELETE' })).status, 200);
    const entries = await audit(`?target=${id}&action=artifact`);
    assert.deepEqual(
      entries.map((e): unknown[] => [e.action, e.who, e.before?.version ?? e.after?.version]),
      [
        ['artifact.remove', 'ops', '9'],
        ['artifact.add', 'ops', '9'],
      ],
    );
  });

  it('records CLI changes as cli:<os user>: device add/set/rm, apply (groups, devices, artifacts), artifact rm', async () => {
    await aps('device', 'add', 'bob', '--profile', 'vop', '--password', 'pw-Cli-1', '--var', 'sip_password=sip-Cli-1');
    await aps('device', 'set', 'bob', '--var', 'language=de');
    const dir = tempDir('aps-audit-apply-');
    writeFileSync(join(dir, 'fw.bin'), 'fw from apply');
    writeFileSync(
      join(dir, 'site.yaml'),
      [
        'groups:',
        '  - { name: lab, vars: { sip_proxy: sip.lab, admin_password: grp-Secret } }',
        'artifacts:',
        '  - { file: fw.bin, profile: vop, kind: firmware, version: "3.0" }',
        'devices:',
        '  - { id: carol, profile: vop, group: lab }',
      ].join('\n'),
    );
    await aps('apply', join(dir, 'site.yaml'));
    const count = s.core.audit.list({ limit: 1000 }).length;
    await aps('apply', join(dir, 'site.yaml'));
    assert.equal(s.core.audit.list({ limit: 1000 }).length, count, 'an apply that changes nothing records nothing');
    await aps('device', 'rm', 'bob');

    // Read in process from the same data folder: `aps audit` itself is run by the filter test below.
    const mine = s.core.audit.list({ who: me }) as Entry[];
    assert.deepEqual(
      mine.map((e) => `${e.action} ${e.target}`),
      [
        'device.remove bob',
        'device.create carol',
        'group.create lab',
        `artifact.add ${mine[3]?.target}`,
        'device.update bob',
        'device.create bob',
      ],
    );
    const set = mine.find((e) => e.action === 'device.update')!;
    assert.deepEqual([set.before?.vars, set.after?.vars], [{ sip_password: '********' }, { language: 'de', sip_password: '********' }]);
    assert.deepEqual(mine.find((e) => e.action === 'group.create')?.after?.vars, { admin_password: '********', sip_proxy: 'sip.lab' });
    const [removed] = mine;
    assert.equal(removed?.before?.hasPassword, true);

    const artifactId = mine[3]!.target;
    await aps('artifact', 'rm', artifactId, '--force');
    const [rm] = s.core.audit.list({ action: 'artifact.remove', target: artifactId }) as Entry[];
    assert.deepEqual([rm?.who, rm?.before?.filename], [me, 'fw.bin']);
    assert.deepEqual(rm?.after?.moved, [{ subject: 'carol', from: Number(artifactId), to: null }]);
    const text = JSON.stringify(s.core.audit.list({ limit: 1000 }));
    for (const secret of ['pw-Cli-1', 'sip-Cli-1', 'grp-Secret']) assert.ok(!text.includes(secret), secret);
  });

  it('records aps sync per source, with the artifacts it added', async () => {
    const dir = tempDir('aps-audit-sync-');
    mkdirSync(join(dir, 'incoming'));
    writeFileSync(join(dir, 'incoming', 'fw-4.1.bin'), 'fw 4.1 from a drop folder');
    const yaml = [
      'sources:',
      '  - name: drop',
      '    type: folder',
      `    path: ${join(dir, 'incoming')}`,
      '    profile: vop',
      '    kind: firmware',
    ];
    writeFileSync(join(dir, 'aps.yaml'), yaml.join('\n'));
    await aps('--config', join(dir, 'aps.yaml'), 'sync');
    const [entry] = s.core.audit.list({ action: 'source.sync' }) as Entry[];
    assert.deepEqual([entry?.who, entry?.target, entry?.after?.ok, entry?.after?.added.length], [me, 'drop', true, 1]);
  });

  it('filters: --who, --action family, --since (age or date), by aps audit and the API alike, and a table without --json', async () => {
    const all = await audit('?limit=1000');
    assert.ok(all.length >= 10);
    assert.ok(
      all.every((e, i) => i === 0 || all[i - 1]!.id > e.id),
      'newest first',
    );
    const ops = await audit('?who=ops&limit=1000');
    assert.ok(ops.length >= 5 && ops.every((e) => e.who === 'ops'));
    const devices = await audit('?action=device&limit=1000');
    assert.ok(devices.length >= 5 && devices.every((e) => e.action.startsWith('device.')));
    assert.ok(devices.length < all.length);
    assert.equal((await audit('?since=1h&limit=1000')).length, all.length);
    assert.deepEqual(await audit('?since=2999-01-01'), []);
    assert.equal((await audit('?limit=2')).length, 2);
    const page = await audit(`?before=${all[1]!.id}&limit=1`);
    assert.equal(page[0]?.id, all[2]!.id);
    assert.equal((await api('/audit?since=nope')).status, 400);
    // A read token may read the log.
    const reader = s.core.tokens.create('reader', 'read', 'test').token;
    assert.equal((await api('/audit', {}, reader)).status, 200);

    // The CLI: the same filters give the same entries.
    const cli = await cliAudit('--who', me, '--action', 'device', '--since', '1h');
    assert.ok(cli.length >= 3);
    assert.deepEqual(
      cli.map((e) => e.id),
      all.filter((e) => e.who === me && e.action.startsWith('device.')).map((e) => e.id),
    );
    assert.deepEqual(await cliAudit('--since', '2999-01-01T00:00Z'), []);
    await fails(['audit', '--since', 'yesterday'], /since must be an age/);
    const table = (await aps('audit', '--who', me, '--action', 'device.update')).stdout;
    assert.match(table, /^ID\s+AT\s+WHO\s+ACTION\s+TARGET\s+CHANGE/m);
    assert.match(table, /device\.update\s+bob\s+vars: \{"sip_password":"\*{8}"\} → \{"language":"de","sip_password":"\*{8}"\}/);
  });

  it('masks secret-looking keys at any depth; parses --since', () => {
    assert.deepEqual(maskSecrets({ a: 1, password: 'x', nested: [{ api_token: 't', name: 'n', pin: '' }], passwordChanged: true }), {
      a: 1,
      password: '********',
      nested: [{ api_token: '********', name: 'n', pin: '' }],
      passwordChanged: true,
    });
    const now = Date.parse('2026-11-30T12:00:00Z');
    assert.equal(parseSince('90m', now), '2026-11-30T10:30:00.000Z');
    assert.equal(parseSince('2d', now), '2026-11-28T12:00:00.000Z');
    assert.equal(parseSince('2026-11-30', now), '2026-11-30T00:00:00.000Z');
    assert.equal(parseSince('2026-11-30T08:00+01:00', now), '2026-11-30T07:00:00.000Z');
    assert.throws(() => parseSince('12', now), /since must be/);
  });
});
