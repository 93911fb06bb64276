import type { Command } from 'commander';
import type { Adapter } from '../adapter.ts';
import { createLogger } from '../log.ts';
import { startServer } from '../server.ts';
import { commandConfig } from './context.ts';
import { applyServeHeapFlags } from './heap-flags.ts';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a port number: ${v}`);
  return n;
}

export function serveCommand(program: Command, adapters: readonly Adapter[]): void {
  program
    .command('serve')
    .description('run the provisioning server (HTTP, HTTPS, FTP) on the data folder')
    .option('--host <address>', 'address to bind', undefined)
    .option('--http-port <port>', 'HTTP port (APS_HTTP_PORT, default 8080)', port)
    .option('--https-port <port>', 'HTTPS port (APS_HTTPS_PORT, default 8443)', port)
    .option('--ftp-port <port>', 'FTP port (APS_FTP_PORT, default 2121)', port)
    .option('--no-https', 'do not serve HTTPS')
    .option('--no-ftp', 'do not serve FTP')
    .option('--public-url <url>', 'base URL written into device files (APS_PUBLIC_URL)')
    .option('--admin-token <token>', 'bearer token of the admin API (APS_ADMIN_TOKEN)')
    .action(async (o, cmd: Command) => {
      const config = commandConfig(cmd, {
        publicUrl: o.publicUrl,
        adminToken: o.adminToken,
        http: o.host !== undefined || o.httpPort !== undefined ? { host: o.host, port: o.httpPort } : undefined,
        https:
          o.https === false || o.httpsPort !== undefined
            ? { enabled: o.https !== false ? undefined : false, port: o.httpsPort }
            : undefined,
        ftp: o.ftp === false || o.ftpPort !== undefined ? { enabled: o.ftp !== false ? undefined : false, port: o.ftpPort } : undefined,
      } as never);
      const log = createLogger(config.logLevel);
      // Everything the server creates is owner-only (the data folder holds password hashes and sealed
      // secrets), also what libraries create without a mode: multer's uploads, SQLite's -wal and -shm.
      process.umask(0o077);
      // Before the server allocates: the old generation's growth is bounded from the first full GC on.
      applyServeHeapFlags();
      const server = await startServer(config, adapters, log);
      const stop = async (signal: string): Promise<void> => {
        log.info({ signal, graceSeconds: config.shutdownGraceSeconds }, 'shutting down: no new connections, finishing requests in flight');
        await server.close();
        log.info('stopped');
        process.exit(0);
      };
      let stopping = false;
      // A signal listener's return value is dropped: a failed close is logged and still ends the process.
      // A second signal (an impatient Ctrl-C) ends it at once.
      const onSignal = (signal: string): void => {
        if (stopping) process.exit(1);
        stopping = true;
        stop(signal).catch((err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        });
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      await new Promise(() => undefined); // serve until a signal
    });
}
