import type { ZodType } from 'zod';
import type { Profile } from './profiles.ts';

// One memo per adapter schema: a profile object lives until the process ends (an edit takes a restart),
// so its settings are parsed once, not on every device request (a zod parse per request showed in profiles).
const memos = new WeakMap<ZodType, WeakMap<Profile, unknown>>();

/** The profile's `settings` as the adapter's schema parses them (absent settings parse as `{}`), parsed once per profile. */
export function profileSettings<T>(schema: ZodType<T>, profile: Profile): T {
  let memo = memos.get(schema);
  if (!memo) memos.set(schema, (memo = new WeakMap()));
  if (memo.has(profile)) return memo.get(profile) as T;
  const parsed = schema.parse(profile.settings ?? {});
  memo.set(profile, parsed);
  return parsed;
}
