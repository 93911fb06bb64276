/** The longest delay setTimeout/setInterval honour (2^31-1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** How an error names the text: with its option when one is given. */
const label = (text: string, flag?: string): string => (flag ? `${flag} ${text}` : `"${text}"`);

/**
 * Parses "500ms", "30s", "10m", "6h", "1d" into milliseconds, any length: what a stored duration (a rollout's
 * timeout) is. Zero and shorter than 1 ms are refused; `flag` names the option in the error.
 */
export function durationMs(text: string, flag?: string): number {
  const what = label(text, flag);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`${what} is not a duration like 30s, 10m, 6h or 1d`);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (ms < 1) throw new Error(`${what} is too short: at least 1ms`);
  if (!Number.isFinite(ms)) throw new Error(`${what} is too long`);
  return ms;
}

/**
 * durationMs for a delay a timer waits (a simulator's `--every`, a window's length): anything longer than a
 * timer can wait (Node would warn and fire every millisecond instead) is refused too.
 */
export function parseDuration(text: string, flag?: string): number {
  const ms = durationMs(text, flag);
  if (ms > MAX_TIMER_MS)
    throw new Error(`${label(text, flag)} is too long: at most ${Math.floor(MAX_TIMER_MS / 3_600_000)}h (about 24.8 days)`);
  return ms;
}
