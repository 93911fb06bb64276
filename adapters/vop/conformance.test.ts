import { conformanceSuite } from '../../test/conformance/suite.ts';

conformanceSuite({
  adapter: 'vop',
  async prepare(s) {
    s.core.devices.upsert({ id: 'alice', profile: 'vop', password: 'alice-pw', vars: { sip_password: 'sip-secret-a' } });
    s.core.devices.upsert({ id: 'bob', profile: 'vop', password: 'bob-pw' });
    await s.core.catalog.addBuffer(Buffer.alloc(4096, 7), {
      kind: 'firmware',
      profile: 'vop',
      version: '2.0',
      serial: 20,
      filename: 'vop-fw.bin',
    });
    const url = (t: string, u: string, p: string): string => `${s.http}/vop/${t}?u=${u}&p=${p}&v=1`;
    return {
      own: { url: url('c', 'alice', 'alice-pw') },
      ownArtifact: { url: url('f', 'alice', 'alice-pw') },
      otherOwn: { url: url('c', 'bob', 'bob-pw') },
      // Alice's valid credentials cannot name Bob's config: the one user in the URL is the identity, and a
      // second `u` makes the request ambiguous, so it is refused.
      crossDevice: { url: `${url('c', 'alice', 'alice-pw')}&u=bob` },
      badCredentials: { url: url('c', 'alice', 'wrong') },
      unknownDevice: { url: url('c', 'mallory', 'alice-pw') },
      secrets: ['alice', 'alice-pw', 'mallory', 'sip-secret-a', 'password', s.dataDir],
    };
  },
});
