import { conformanceSuite } from '../../test/conformance/suite.ts';

const basic = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

conformanceSuite({
  adapter: 'audiocodes',
  ftp: true,
  async prepare(s) {
    s.core.devices.upsert({
      id: 'gw-alice',
      profile: 'audiocodes-mp124',
      mac: '00908FC00001',
      password: 'alice-pw',
      vars: { sip_proxy: 'secret-proxy.example' },
    });
    s.core.devices.upsert({ id: 'gw-bob', profile: 'audiocodes-mp124', mac: '00908FC00002', password: 'bob-pw' });
    await s.core.catalog.addBuffer(Buffer.alloc(4096, 7), {
      kind: 'firmware',
      profile: 'audiocodes-mp124',
      version: '6.60A.360.002',
      filename: 'MP124.cmp',
    });
    const ini = `${s.http}/audiocodes/00908FC00001.ini`;
    return {
      own: { url: ini, headers: basic('gw-alice', 'alice-pw') },
      ownArtifact: { url: `${s.http}/audiocodes/00908FC00001/cmp/MP124_6.60A.360.002.cmp`, headers: basic('gw-alice', 'alice-pw') },
      otherOwn: { url: `${s.http}/audiocodes/00908FC00002.ini`, headers: basic('gw-bob', 'bob-pw') },
      // Alice's valid credentials aimed at Bob's ini (and his MAC in the User-Agent).
      crossDevice: {
        url: `${s.http}/audiocodes/00908FC00002.ini`,
        headers: { ...basic('gw-alice', 'alice-pw'), 'User-Agent': 'Mozilla/4.0 (compatible; AudioCodes; MP-124;6.60A;00908FC00002;1)' },
      },
      ftp: { user: 'gw-alice', password: 'alice-pw', own: '/00908FC00001.ini', other: '/00908FC00002.ini' },
      badCredentials: { url: ini, headers: basic('gw-alice', 'wrong') },
      unknownDevice: { url: `${s.http}/audiocodes/00908FC0FFFF.ini`, headers: basic('gw-alice', 'alice-pw') },
      secrets: ['gw-alice', 'alice-pw', '00908FC00001', '00908fc00001', 'secret-proxy', 'password', s.dataDir],
    };
  },
});
