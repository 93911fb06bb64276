import { conformanceSuite } from '../../test/conformance/suite.ts';

// The config and firmware routes under the shared suite, for devices with HTTP credentials. Basic over
// HTTPS, since the suite replays one header for its HEAD and Range checks and a Digest header is accepted
// once per nonce count. (Devices without a password are identified by their MAC alone, as the devices'
// unauthenticated default is: see README "Security".)
const basic = (user: string, password: string): Record<string, string> => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

conformanceSuite({
  adapter: 'innovaphone',
  async prepare(s) {
    s.core.devices.upsert({
      id: 'alice',
      profile: 'innovaphone-ip232',
      mac: '00-90-33-01-02-03',
      password: 'alice-pw',
      vars: { sip_registrar: '198.51.100.7' },
    });
    s.core.devices.upsert({ id: 'bob', profile: 'innovaphone-ip232', mac: '00-90-33-0a-0b-0c', password: 'bob-pw' });
    const fw = await s.core.catalog.addBuffer(Buffer.alloc(4096, 7), {
      kind: 'firmware',
      profile: 'innovaphone-ip232',
      version: '13r3-1',
      filename: 'ip232.bin',
    });
    const cfg = `${s.https}/innovaphone/cfg/009033010203/config.txt`;
    const cfgB = `${s.https}/innovaphone/cfg/0090330a0b0c/config.txt`;
    return {
      own: { url: cfg, headers: basic('alice', 'alice-pw') },
      ownArtifact: { url: `${s.https}/innovaphone/fw/009033010203/${fw.id}/ip232.bin`, headers: basic('alice', 'alice-pw') },
      otherOwn: { url: cfgB, headers: basic('bob', 'bob-pw') },
      // Alice's valid credentials aimed at Bob's config.
      crossDevice: { url: cfgB, headers: basic('alice', 'alice-pw') },
      badCredentials: { url: cfg, headers: basic('alice', 'wrong') },
      unknownDevice: { url: `${s.https}/innovaphone/cfg/009033ffffff/config.txt`, headers: basic('alice', 'alice-pw') },
      secrets: ['alice', 'alice-pw', '009033010203', '009033ffffff', '198.51.100.7', 'password', s.dataDir],
    };
  },
});
