import { createLogger, type Logger } from '../../src/log.ts';

/** A logger whose lines a test can read (parsed JSON), e.g. to check what a server warns about at start. */
export function capturingLogger(level = 'info'): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}
