import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

// Secrets never reach the log: device passwords, SIP secrets inside rendered configs, Authorization headers.
// Query strings are redacted too because the VOP protocol carries the password in the URL ($p).
const REDACT = [
  'password',
  'pass',
  '*.password',
  '*.pass',
  '*.secret',
  '*.sipPassword',
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
];

export function createLogger(level: string = process.env.APS_LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { app: 'aps' } };
  return destination ? pino(options, destination) : pino(options);
}

/** Strips the query string: URLs are logged by path only, since device URLs may carry credentials. */
export function safePath(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?[redacted]`;
}
