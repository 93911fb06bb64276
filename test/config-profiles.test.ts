import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import { loadConfig } from '../src/config.ts';
import { publicUrls } from '../src/core.ts';
import { loadProfiles } from '../src/profiles/profiles.ts';
import { tempDir } from './helpers/server.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function profilesDir(files: Record<string, string>): string {
  const d = tempDir('aps-profiles-');
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

const schemas = (name: string) => (name === 'demo' ? z.object({ fileName: z.string().default('x.cfg') }).strict() : undefined);

describe('configuration', () => {
  it('has defaults that run with no file', () => {
    const c = loadConfig({ env: {}, file: undefined });
    assert.equal(c.http.port, 8080);
    assert.equal(c.https.port, 8443);
    assert.equal(c.ftp.port, 2121);
    assert.ok(c.dataDir.endsWith('data'));
  });

  it('layers aps.yaml, then APS_* env, then flags', () => {
    const d = tempDir();
    dirs.push(d);
    writeFileSync(join(d, 'aps.yaml'), 'http:\n  port: 9000\nftp:\n  port: 9021\n');
    const c = loadConfig({
      env: { APS_HTTP_PORT: '9100', APS_PUBLIC_URL: 'http://prov.example:9100/' },
      file: join(d, 'aps.yaml'),
      overrides: { ftp: { port: 9999 } },
    });
    assert.equal(c.http.port, 9100);
    assert.equal(c.ftp.port, 9999);
    assert.equal(c.publicUrl, 'http://prov.example:9100');
    assert.ok(Object.isFrozen(c));
  });

  it('reads every documented APS_* variable', () => {
    const env = {
      APS_DATA: '/srv/aps-data',
      APS_HTTP_PORT: '81',
      APS_HTTPS_PORT: '444',
      APS_FTP_PORT: '2122',
      APS_PUBLIC_URL: 'http://prov.example',
      APS_ADMIN_TOKEN: 'a-long-enough-token',
    };
    const c = loadConfig({ env, file: undefined });
    assert.deepEqual(
      [c.dataDir, c.http.port, c.https.port, c.ftp.port, c.publicUrl, c.adminToken],
      ['/srv/aps-data', 81, 444, 2122, 'http://prov.example', 'a-long-enough-token'],
    );
    assert.throws(() => loadConfig({ env: { APS_ADMIN_TOKEN: 'short' } }), /adminToken/);
  });

  it('writes an IPv6 bind address into device URLs in brackets', () => {
    const c = loadConfig({ env: {}, file: undefined, overrides: { http: { host: '::1' } } });
    assert.deepEqual(publicUrls(c, 8080, 8443, 2121), { http: 'http://[::1]:8080', https: 'https://[::1]:8443', ftp: 'ftp://[::1]:2121' });
  });

  it('fails naming the key for a bad file or value', () => {
    const d = tempDir();
    dirs.push(d);
    writeFileSync(join(d, 'aps.yaml'), 'http:\n  prot: 80\n');
    assert.throws(() => loadConfig({ env: {}, file: join(d, 'aps.yaml') }), /aps\.yaml: http: Unrecognized key.*prot/);
    assert.throws(() => loadConfig({ env: { APS_HTTP_PORT: 'eighty' } }), /APS_HTTP_PORT: not a port number/);
  });
});

describe('profiles', () => {
  it('loads valid profiles with their template and adapter settings', () => {
    const d = profilesDir({
      'desk.yaml': 'adapter: demo\nmodels: [A1]\nvars: { port: 5060 }\ntemplate: t/desk.hbs\n',
      't/desk.hbs': 'port={{vars.port}} id={{device.id}}\n',
    });
    const reg = loadProfiles(d, schemas);
    const p = reg.require('desk');
    assert.deepEqual(p.models, ['A1']);
    assert.equal(p.vars.port, '5060');
    assert.deepEqual(p.settings, { fileName: 'x.cfg' });
    assert.equal(p.template!.render({ vars: { port: '5060' }, device: { id: 'd1' } }), 'port=5060 id=d1\n');
  });

  it('reads the catalog order (version by default) and refuses an unknown one', () => {
    const reg = loadProfiles(profilesDir({ 'v.yaml': 'adapter: demo\n', 's.yaml': 'adapter: demo\norder: serial\n' }), schemas);
    assert.equal(reg.require('v').order, 'version');
    assert.equal(reg.require('s').order, 'serial');
    assert.throws(
      () => loadProfiles(profilesDir({ 'n.yaml': 'adapter: demo\norder: newest\n' }), schemas),
      /n\.yaml: order: .*"version".*"serial".*"added"/,
    );
  });

  it('names the file and the key of a bad profile', () => {
    assert.throws(() => loadProfiles(profilesDir({ 'a.yaml': 'adapter: nope\n' }), schemas), /a\.yaml: adapter: no adapter named "nope"/);
    assert.throws(() => loadProfiles(profilesDir({ 'b.yaml': 'adapter: demo\nmodels: 3\n' }), schemas), /b\.yaml: models:/);
    assert.throws(
      () => loadProfiles(profilesDir({ 'c.yaml': 'adapter: demo\nsettings: { colour: red }\n' }), schemas),
      /c\.yaml: settings: .*colour/,
    );
    assert.throws(
      () => loadProfiles(profilesDir({ 'd.yaml': 'adapter: demo\ntemplate: ../../etc/passwd\n' }), schemas),
      /d\.yaml: template: must stay inside/,
    );
    assert.throws(
      () => loadProfiles(profilesDir({ 'e.yaml': 'adapter: demo\ntemplate: e.hbs\n', 'e.hbs': '{{#if x}}unclosed' }), schemas),
      /e\.yaml: template e\.hbs/,
    );
    assert.throws(() => loadProfiles(profilesDir({ 'f.yaml': 'adapter: [demo\n' }), schemas), /f\.yaml: \(yaml\)/);
  });

  it('picks up a profile file added while running, by name', () => {
    const d = profilesDir({ 'one.yaml': 'adapter: demo\n' });
    const reg = loadProfiles(d, schemas);
    assert.throws(() => reg.require('two'), /unknown profile "two"/);
    writeFileSync(join(d, 'two.yaml'), 'adapter: demo\nmodels: [B2]\n');
    assert.deepEqual(reg.require('two').models, ['B2']);
    assert.deepEqual(
      reg.list().map((p) => p.name),
      ['one', 'two'],
    );
    assert.equal(reg.get('../one'), undefined, 'only profile names, never paths');
  });

  it('reports a variable the template needs but the device lacks', () => {
    const d = profilesDir({ 'g.yaml': 'adapter: demo\ntemplate: g.hbs\n', 'g.hbs': 'secret={{vars.sip_password}}\n' });
    const p = loadProfiles(d, schemas).require('g');
    assert.throws(() => p.template!.render({ vars: {} }), /"sip_password" not defined/);
  });

  it('loads the shipped demo profiles', async () => {
    const { ADAPTERS } = await import('../adapters/index.ts');
    const byName = new Map(ADAPTERS.map((a) => [a.name, a.profileSchema]));
    const reg = loadProfiles(new URL('../profiles', import.meta.url).pathname, (n) => byName.get(n));
    assert.ok(reg.get('vop'));
  });
});
