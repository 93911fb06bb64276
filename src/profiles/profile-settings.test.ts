import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { profileSettings } from './profile-settings.ts';
import type { Profile } from './profiles.ts';

const profile = (settings: unknown): Profile =>
  ({
    name: 'p',
    adapter: 'a',
    description: '',
    models: [],
    order: 'version',
    release: 'auto',
    vars: {},
    settings,
    hash: 'h',
    file: 'f',
  }) as Profile;

describe('profileSettings', () => {
  it('parses a profile once per schema, with the schema defaults, absent settings as {}', () => {
    let runs = 0;
    const schema = z.object({ n: z.number().default(7) }).transform((s) => (runs++, s));
    const p = profile(undefined);
    const first = profileSettings(schema, p);
    assert.deepEqual(first, { n: 7 });
    assert.equal(profileSettings(schema, p), first, 'the same object, not parsed again');
    assert.equal(runs, 1);
    // Another schema over the same profile has its own memo.
    const other = z.object({ m: z.string().default('x') });
    assert.deepEqual(profileSettings(other, p), { m: 'x' });
  });

  it('a profile whose settings the schema refuses throws every time (nothing remembered)', () => {
    const schema = z.object({ n: z.number() }).strict();
    const p = profile({ n: 'no' });
    assert.throws(() => profileSettings(schema, p));
    assert.throws(() => profileSettings(schema, p));
  });
});
