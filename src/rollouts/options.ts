import { ApsError } from '../errors.ts';
import { durationMs } from '../duration.ts';

/** "1,10,50,100" → [1, 10, 50, 100]: increasing percentages in (0, 100]; a last stage below 100 gets 100 after it. */
export function parseStages(input: string | readonly number[] | undefined): number[] {
  const list =
    input === undefined ? [1, 10, 50, 100] : typeof input === 'string' ? input.split(',').map((x) => x.trim().replace(/%$/, '')) : input;
  const stages = list.map(Number);
  if (stages.length === 0 || stages.some((n, i) => !Number.isFinite(n) || n <= 0 || n > 100 || (i > 0 && n <= stages[i - 1]!)))
    throw new ApsError(
      'bad_request',
      `stages must be increasing percentages above 0 and at most 100, like 1,10,50,100 (not ${String(input)})`,
    );
  if (stages.at(-1) !== 100) stages.push(100);
  return stages;
}

/** `5%` or a count `3`: normalised text; more failures than this halt a rollout. */
export function parseMaxFailures(input: string | number | undefined): string {
  const text = input === undefined ? '5%' : String(input).trim();
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text);
  if (!m || (m[2] && Number(m[1]) > 100) || (!m[2] && !Number.isSafeInteger(Number(m[1]))))
    throw new ApsError('bad_request', `max failures must be a percentage (5%) or a whole count (3), not "${text}"`);
  return `${Number(m[1])}${m[2]}`;
}

/** Whether `failed` of `total` devices pass the threshold. */
export function failuresExceed(maxFailures: string, failed: number, total: number): boolean {
  if (maxFailures.endsWith('%')) return failed * 100 > Number(maxFailures.slice(0, -1)) * total;
  return failed > Number(maxFailures);
}

/** "6h", "30m", "45s", "2d" or plain seconds → seconds (at least 1). */
export function parseTimeout(input: string | number | undefined): number {
  if (input === undefined) return 6 * 3600;
  const text = String(input).trim();
  let seconds: number;
  try {
    seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : durationMs(text, 'timeout') / 1000;
  } catch (e) {
    throw new ApsError('bad_request', (e as Error).message);
  }
  if (!(seconds >= 1)) throw new ApsError('bad_request', `timeout must be at least 1 s, not "${text}"`);
  if (!Number.isFinite(seconds)) throw new ApsError('bad_request', `timeout "${text}" is too long`);
  return Math.round(seconds);
}

/** 21600 → "6h", 90 → "90s": for reasons and listings. */
export function formatSeconds(s: number): string {
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
