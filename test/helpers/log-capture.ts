import { createLogger, type Logger } from '../../src/log.ts';

/**
 * A logger whose lines a test can read, parsed (e.g. to check what a server warns about at start) and as
 * written (`raw`, for checks on the exact text that reaches the log, such as redaction).
 */
export function capturingLogger(level = 'info'): { log: Logger; lines: Array<Record<string, unknown>>; raw: string[] } {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const log = createLogger(level, {
    write: (line: string) => {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { log, lines, raw };
}
