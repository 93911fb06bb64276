import { spawn, type ChildProcess } from 'node:child_process';
import { APS_BIN } from './cli.ts';

export interface SpawnedServer {
  child: ChildProcess;
  stdout: string;
  /** The "APS listening" log line: the ports chosen, the public URL, the data folder. */
  listening: { http: number; https: number | null; ftp: number | null; publicUrl: string; data: string };
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** Sends SIGTERM (or the signal given) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** The last of its stderr and stdout, for a failure message. */
  output(): string;
}

/** `aps serve` as an operator runs it: a child process, resolved once it logs "APS listening". */
export function spawnServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [APS_BIN, 'serve', ...args], { env: { ...process.env, APS_LOG_LEVEL: 'info', ...env } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c) => (stderr = (stderr + c).slice(-20_000)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`no "APS listening" line:\n${stdout}${stderr}`))), 30_000);
    void exited.then((code) => reject(new Error(`exited ${code}:\n${stdout}${stderr}`)));
    let found = false;
    child.stdout.on('data', (c) => {
      stdout = (stdout + c).slice(-200_000);
      if (found) return;
      // Complete lines only: a pipe may deliver a long write in pieces, and half a line is not JSON.
      const line = stdout
        .split('\n')
        .slice(0, -1)
        .find((l) => l.includes('"APS listening"'));
      if (!line) return;
      found = true;
      clearTimeout(timer);
      resolve({
        child,
        get stdout(): string {
          return stdout;
        },
        listening: JSON.parse(line),
        exited,
        stop: (signal = 'SIGTERM') => (child.kill(signal), exited),
        output: () => `${stdout.slice(-4000)}\n${stderr.slice(-4000)}`,
      });
    });
  });
}
