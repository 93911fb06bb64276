// `aps avaya import-settings`: the real samples as a group's and a profile's starting parameters, resolved
// as a phone of the given model and GROUP reads them, then served back by a real server.
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simRequest } from '../../src/adapter-api.ts';
import { apsCli } from '../../test/helpers/cli.ts';
import { startTestServer, tempDir, type TestServer } from '../../test/helpers/server.ts';
import { importSettings } from './import-settings.ts';
import { bootPhone } from './simulator.ts';

const SAMPLES = new URL('./fixtures/samples/', import.meta.url).pathname;
const ipOffice = readFileSync(join(SAMPLES, '46xxsettings_ipoffice_autogen.txt'), 'utf8');

describe('importing an existing 46xxsettings.txt', () => {
  it('resolves IF sections for the model given and keeps every parameter it reaches', async () => {
    const j179 = await importSettings(ipOffice, { model: 'J179' });
    assert.equal(j179.vars.SIPDOMAIN, 'hospice.local');
    assert.equal(j179.vars.SIP_CONTROLLER_LIST, '10.8.61.20:5061;transport=tls');
    assert.equal(j179.vars.SYSTEM_LANGUAGE, 'Mlf_J169_J179_English.xml');
    assert.equal(j179.vars.LANG1FILE, undefined, '16xx-only parameters are not reached');
    assert.equal(j179.conditionals, 100);
    const k175 = await importSettings(ipOffice, { model: 'K175' });
    assert.equal(k175.vars.OBSCURE_PREFERENCES, '');
    const flat = await importSettings(readFileSync(join(SAMPLES, '46xxsettings_3rdparty_sip.txt'), 'utf8'), {});
    assert.equal(Object.keys(flat.vars).length, 13);
    assert.equal(flat.conditionals, 0);
  });

  it('leaves out names that are not Avaya parameters and values that would break a SET line', async () => {
    const r = await importSettings('SET lower_case 1\nSET OK "a b"\nSET Bad-Name 2\nGET other.txt\n', {});
    assert.deepEqual(r.vars, { OK: 'a b', LOWER_CASE: '1' });
    assert.deepEqual(r.skipped, ['BAD-NAME: not an Avaya parameter name']);
    assert.deepEqual(r.gets, ['other.txt']);
  });

  describe('the command', () => {
    const data = tempDir('aps-avaya-import-');
    const profiles = tempDir('aps-avaya-profiles-');
    const { aps, fails } = apsCli(() => ({ ...process.env, APS_DATA: data, APS_PROFILES: profiles, APS_LOG_LEVEL: 'silent' }));
    let s: TestServer;
    before(() => {
      cpSync(new URL('../../profiles/', import.meta.url).pathname, profiles, { recursive: true });
    });
    after(async () => {
      await s?.stop();
    });

    it('imports into a group (an apply file with its GROUP number) and a new profile; the server serves both', async () => {
      const applyFile = join(data, 'kamailio.yaml');
      const kamailio = join(SAMPLES, '46xxsettings_3rdparty_sip.txt');
      const g = await aps('avaya', 'import-settings', kamailio, '--group', 'kamailio', '--group-number', '4', '--out', applyFile);
      assert.match(g.stdout, /13 parameters imported/);
      await fails(['avaya', 'import-settings', kamailio, '--group', 'kamailio'], /--group needs --out FILE/);
      await aps('apply', applyFile);
      const p = await aps(
        'avaya',
        'import-settings',
        join(SAMPLES, '46xxsettings_ipoffice_autogen.txt'),
        '--profile',
        'site-j100',
        '--model',
        'J179',
        '--model',
        'J169',
      );
      assert.match(p.stdout, /resolved as a J179 in GROUP 0/);
      await fails(
        ['avaya', 'import-settings', join(SAMPLES, '46xxsettings_ipoffice_autogen.txt'), '--profile', 'site-j100', '--model', 'J179'],
        /exists; add --force/,
      );
      await fails(['avaya', 'import-settings', join(SAMPLES, 'J100Supgrade.txt')], /exactly one of --profile NAME or --group NAME/);

      s = await startTestServer({ profilesDir: profiles }, data);
      s.core.devices.upsert({ id: 'imp-j179', profile: 'site-j100', model: 'J179', mac: '00e0bb111179', group: 'kamailio' });
      const r = await bootPhone({ server: s.http, model: 'J179', mac: '00e0bb111179', group: 4 });
      assert.ok(r.ok, r.error);
      assert.equal(r.settings.SIPDOMAIN, 'YOUR_PBX_IP', 'the group (imported from the Kamailio file) overrides the profile');
      assert.equal(r.settings.SYSTEM_LANGUAGE, 'Mlf_J169_J179_English.xml', 'profile parameter from the IP Office file');
      assert.equal(r.settings.GMTOFFSET, '-5:00');
      const settings = (await simRequest({ url: `${s.http}/avaya/46xxsettings.txt` })).body.toString('utf8');
      assert.match(settings, /^IF \$GROUP SEQ 4 GOTO GROUP_4$/m);
      assert.match(settings, /^SET SIP_CONTROLLER_LIST "YOUR_PROXY_IP:YOUR_PROXY_PORT;transport=tcp"$/m);
    });
  });
});
