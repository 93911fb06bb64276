import cliProgress from 'cli-progress';
import type { SourceProgress } from '../sources/result.ts';

/** How `aps sync` shows transfers: a bar on a terminal, plain lines in a log file or pipe, JSON lines with --json. */
export type ProgressMode = 'bar' | 'lines' | 'json';

export interface ProgressView {
  onProgress(p: SourceProgress): void;
  /** Ends a bar still drawn (a run that stopped mid-file). */
  stop(): void;
}

/** `12.3 MB` style sizes for the lines a person reads. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * Progress on stderr, so stdout keeps only the result (`--json` output stays one parseable document). Lines and
 * JSON lines are printed only for a transfer still going after `intervalMs`, then every `intervalMs`, and once
 * more when it ends: short transfers print nothing.
 */
export function progressView(mode: ProgressMode, intervalMs: number, out: NodeJS.WritableStream = process.stderr): ProgressView {
  if (mode === 'bar') return barView(out);
  let current: { key: string; started: number; last: number; printed: boolean } | undefined;
  const print = (p: SourceProgress): void => {
    const pct = p.total > 0 ? Math.floor((p.bytes / p.total) * 100) : 100;
    out.write(
      mode === 'json'
        ? `${JSON.stringify({ event: 'progress', source: p.source, file: p.file, bytes: p.bytes, total: p.total, percent: pct, done: p.done })}\n`
        : `${p.source}: ${p.file} ${pct}% (${formatBytes(p.bytes)} of ${formatBytes(p.total)})${p.done ? ' done' : ''}\n`,
    );
  };
  return {
    onProgress(p): void {
      const now = Date.now();
      const key = `${p.source}/${p.file}`;
      if (current?.key !== key) current = { key, started: now, last: now, printed: false };
      if (p.done) {
        if (current.printed || intervalMs === 0) print(p);
        current = undefined;
      } else if (now - current.last >= intervalMs) {
        current.last = now;
        current.printed = true;
        print(p);
      }
    },
    stop(): void {},
  };
}

function barView(out: NodeJS.WritableStream): ProgressView {
  let bar: cliProgress.SingleBar | undefined;
  let key = '';
  const end = (): void => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress(p): void {
      if (!bar || key !== `${p.source}/${p.file}`) {
        end();
        key = `${p.source}/${p.file}`;
        bar = new cliProgress.SingleBar(
          {
            stream: out,
            format: '{source}: {file} [{bar}] {percentage}% {done} of {size}',
            hideCursor: true,
            clearOnComplete: true,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total, 0, { source: p.source, file: p.file, size: formatBytes(p.total), done: formatBytes(0) });
      }
      bar.update(p.bytes, { done: formatBytes(p.bytes) });
      if (p.done) end();
    },
    stop: end,
  };
}
