import type { z } from 'zod';
import { ApsError } from '../errors.ts';

// Admin API input checks every api-*.ts route file shares: a bad body or query is a 400 naming the field.

/** A JSON body checked against its zod schema; the first issue becomes the 400's message. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ApsError('bad_request', `${i.path.join('.') || 'body'}: ${i.message}`);
  }
  return r.data;
}

/** An optional non-negative integer query parameter (at most `max` when given); anything else is a 400 naming the parameter. */
export function intQuery(value: unknown, name: string, max?: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value) || (max !== undefined && Number(value) > max))
    throw new ApsError(
      'bad_request',
      max === undefined ? `${name} must be a non-negative integer` : `${name} must be an integer from 0 to ${max}`,
    );
  return Number(value);
}
