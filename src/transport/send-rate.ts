import type { Socket } from 'node:net';

/**
 * The slowest a download may go (issue 13, defect 8): a client reading one byte a minute would otherwise hold
 * a connection and a file descriptor forever. Checked once per grace period, the first time after one.
 */
export interface SendRateLimit {
  /** Bytes per second; 0 turns the check off. */
  minBytesPerSecond: number;
  graceMs: number;
}

export interface SendRateWatch {
  stop(): void;
  /** Why the transfer was cut, once it was. */
  reason(): string | undefined;
}

/**
 * Calls `cut` when fewer than `minBytesPerSecond` × the period's seconds reached `socket` during a grace
 * period. The socket's byte count is what the kernel took: once the client stops reading, its buffers fill
 * and the count stands still. One watcher for HTTP responses and FTP data connections alike.
 */
export function watchSendRate(socket: Socket | null | undefined, limit: SendRateLimit | undefined, cut: () => void): SendRateWatch {
  if (!limit || limit.minBytesPerSecond <= 0 || !socket) return { stop: () => undefined, reason: () => undefined };
  let reason: string | undefined;
  let last = socket.bytesWritten;
  const need = (limit.minBytesPerSecond * limit.graceMs) / 1000;
  const timer = setInterval(() => {
    const now = socket.bytesWritten;
    if (now - last < need) {
      reason = `closed: fewer than ${limit.minBytesPerSecond} bytes/s over ${limit.graceMs / 1000} s (${now - last} bytes)`;
      clearInterval(timer);
      cut();
    }
    last = now;
  }, limit.graceMs);
  timer.unref();
  return { stop: () => clearInterval(timer), reason: () => reason };
}
