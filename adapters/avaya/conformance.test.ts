import { conformanceSuite } from '../../test/conformance/suite.ts';

const basic = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

conformanceSuite({
  adapter: 'avaya',
  async prepare(s) {
    s.core.devices.upsert({
      id: 'desk-alice',
      profile: 'avaya-j100',
      model: 'J179',
      mac: '0011223344a1',
      password: 'alice-pw',
      vars: { SIPUSERNAME: '201', SIPPASSWORD: 'alice-sip-secret' },
    });
    s.core.devices.upsert({
      id: 'desk-bob',
      profile: 'avaya-j100',
      model: 'J179',
      mac: '0011223344b2',
      password: 'bob-pw',
      vars: { SIPUSERNAME: '202' },
    });
    await s.core.catalog.addBuffer(Buffer.alloc(4096, 7), {
      kind: 'firmware',
      profile: 'avaya-j100',
      models: ['J179'],
      version: '4.1.1.0.7',
      filename: 'FW_S_J179_R4_1_1_0_7.bin',
    });
    const own = `${s.https}/avaya/0011223344a1.txt`;
    return {
      own: { url: own, headers: basic('desk-alice', 'alice-pw') },
      ownArtifact: { url: `${s.http}/avaya/FW_S_J179_R4_1_1_0_7.bin` },
      otherOwn: { url: `${s.https}/avaya/0011223344b2.txt`, headers: basic('desk-bob', 'bob-pw') },
      // Alice's valid credentials aimed at Bob's file.
      crossDevice: { url: `${s.https}/avaya/0011223344b2.txt`, headers: basic('desk-alice', 'alice-pw') },
      badCredentials: { url: own, headers: basic('desk-alice', 'wrong') },
      unknownDevice: { url: `${s.https}/avaya/00112233ffff.txt`, headers: basic('desk-alice', 'alice-pw') },
      secrets: ['desk-alice', 'alice-pw', 'alice-sip-secret', '0011223344a1', 'SIPPASSWORD', s.dataDir],
    };
  },
});
