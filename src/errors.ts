// One catalogue of errors: a stable code and the HTTP status it maps to. The error middleware and the
// CLI both turn an ApsError into a clear message; anything else is a bug and is logged, never shown.
export type ApsErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'invalid_config'
  | 'invalid_profile'
  | 'too_large'
  // A client holds too much at once (open event streams) or failed to log in too often: try later.
  | 'too_many_requests'
  // A device sent something it should not have (malformed XML, a body over a limit): its fault, a 400.
  | 'bad_device_input'
  // The operator's settings or template cannot give this device a valid file: a 500 to the device, the
  // reason (naming settings and variables, never their values) to the log and `aps preview`.
  | 'render_failed'
  // A device reported a fault of its own (e.g. a TR-069 CWMP Fault): recorded, not an error of ours.
  | 'device_fault'
  // A stored value does not parse (a damaged database): the operator is told which one, a device gets a 500.
  | 'corrupt_data'
  | 'internal';

const STATUS: Record<ApsErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_config: 500,
  invalid_profile: 500,
  too_large: 413,
  too_many_requests: 429,
  bad_device_input: 400,
  render_failed: 500,
  device_fault: 502,
  corrupt_data: 500,
  internal: 500,
};

/**
 * The one error type. Adapters subclass it for their own faults (an ini syntax error, a CWMP parse error),
 * keeping their finer `reason` beside the catalogue `code` that decides the status and the message shape.
 */
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
