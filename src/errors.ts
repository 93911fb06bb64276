// One catalogue of errors: a stable code and the HTTP status it maps to. The error middleware and the
// CLI both turn an ApsError into a clear message; anything else is a bug and is logged, never shown.
export type ApsErrorCode =
  'bad_request' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'invalid_config' | 'invalid_profile' | 'too_large' | 'internal';

const STATUS: Record<ApsErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_config: 500,
  invalid_profile: 500,
  too_large: 413,
  internal: 500,
};

export class ApsError extends Error {
  readonly code: ApsErrorCode;
  readonly status: number;
  constructor(code: ApsErrorCode, message: string) {
    super(message);
    this.name = 'ApsError';
    this.code = code;
    this.status = STATUS[code];
  }
}

export function isApsError(e: unknown): e is ApsError {
  return e instanceof ApsError;
}
