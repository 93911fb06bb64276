import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { type Router } from 'express';
import type { Adapter, AdapterContext, AdapterServices } from './adapter.ts';
import { readTokenFile } from './admin/tokens.ts';
import type { ApsConfig } from './config.ts';
import { forgetServedUrls, openCore, publicUrls, rememberServedUrls, type Core, type CoreOptions } from './core.ts';
import { rolloutSourceHooks } from './rollouts/source-hook.ts';
import { startRolloutTicker, type RolloutTicker } from './rollouts/ticker.ts';
import type { SourceScheduler } from './sources/scheduler.ts';
import { assertSourceProfiles, startSources } from './sources/sync.ts';
import { looseModes, sweepLeftovers } from './data-folder.ts';
import { writeFileAtomic } from './fs-atomic.ts';
import type { Logger } from './log.ts';
import { createApp } from './transport/app.ts';
import { startWindowPush, type WindowPush } from './windows/push.ts';
import type { FtpResolver } from './transport/ftp-mount.ts';
import { trackConnections, type Drainer } from './transport/drain.ts';
import { createMetrics } from './transport/metrics.ts';
import { listRoutes, type RouteInfo } from './transport/routes.ts';
import { loadTls, tlsServerOptions } from './transport/tls.ts';
import type { FtpServerHandle } from './transport/ftp-server.ts';

export interface RunningServer {
  core: Core;
  adminToken: string;
  httpPort: number;
  httpsPort: number | null;
  ftpPort: number | null;
  tlsFingerprint: string | null;
  /** The adapters that mounted an FTP view. */
  ftpMounts: string[];
  /** Every adapter's HTTP routes, mount point included (the admin API's are listRoutes(adminApi(…), '/api/v1')). */
  routes: RouteInfo[];
  /** node-cron schedules of the upstream sources (none when no source has a schedule). */
  sources: SourceScheduler;
  /** The staged-rollout clock (health judged every rollouts.tickSeconds and when a watched device reports). */
  rollouts: RolloutTicker;
  /** Pushes at maintenance-window starts (src/windows/push.ts). */
  windowPush: WindowPush;
  /**
   * Stops accepting, lets requests in flight finish for at most `graceMs` (config.shutdownGraceSeconds
   * unless given), then records the pending events and closes the store.
   */
  close(opts?: { graceMs?: number }): Promise<void>;
}

/** The admin token: configured, or generated once into the data folder (and then printed once). */
function adminToken(config: ApsConfig, log: Logger): string {
  if (config.adminToken) return config.adminToken;
  const file = join(config.dataDir, 'admin.token');
  const saved = readTokenFile(config.dataDir);
  if (saved) return saved;
  // An emptied or truncated file would lock everyone out of the API without a word: make a new one.
  if (existsSync(file)) log.warn({ file }, 'admin token file is empty or too short; generating a new token');
  const token = randomBytes(24).toString('base64url');
  writeFileAtomic(file, token + '\n', 0o600);
  // Printed once on purpose: this is the only time the operator sees it outside the data folder.
  process.stdout.write(`APS admin token (saved in ${file}): ${token}\n`);
  log.info({ file }, 'generated an admin token');
  return token;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * The context register() receives: the adapter's narrow services and its own config, routes and FTP view,
 * listed one by one, so nothing else of the core can ride along (test/adapter-context.test.ts checks the keys).
 */
export function adapterContext<C>(s: AdapterServices, own: Pick<AdapterContext<C>, 'config' | 'router' | 'ftp'>): AdapterContext<C> {
  return {
    name: s.name,
    log: s.log,
    urls: s.urls,
    catalog: s.catalog,
    devices: s.devices,
    profiles: s.profiles,
    revisions: s.revisions,
    rendered: s.rendered,
    events: s.events,
    files: s.files,
    secrets: s.secrets,
    push: s.push,
    state: s.state,
    access: s.access,
    backups: s.backups,
    windows: s.windows,
    config: own.config,
    router: own.router,
    ftp: own.ftp,
  };
}

/** Opens the core, registers every adapter and listens on HTTP, HTTPS and FTP. */
export async function startServer(
  config: ApsConfig,
  adapters: readonly Adapter[],
  log: Logger,
  opts: CoreOptions = {},
): Promise<RunningServer> {
  const core = openCore(config, adapters, log, opts);
  assertSourceProfiles(core);
  const token = adminToken(config, log);
  const routers = new Map<string, Router>();
  const ftpResolvers: FtpResolver[] = [];
  const ftpMounts: string[] = [];
  for (const a of adapters) {
    const router = express.Router();
    const ctx = adapterContext(core.servicesFor(a.name), {
      config: core.adapterConfig(a.name),
      router,
      ftp: {
        provide: (r) => {
          ftpResolvers.push(r);
          ftpMounts.push(a.name);
        },
        anonymous: config.ftp.anonymous,
      },
    });
    await a.register(ctx);
    routers.set(a.name, router);
  }
  const app = createApp(core, createMetrics(core), routers);
  const drainers: Drainer[] = [];

  const http = createHttpServer(app.classes, app.listener);
  drainers.push(trackConnections(http));
  const httpPort = await listen(http, config.http.port, config.http.host);

  let httpsPort: number | null = null;
  let tlsFingerprint: string | null = null;
  if (config.https.enabled) {
    // The host devices are given (APS_PUBLIC_URL's, or the LAN address) goes into a new certificate.
    const planned = publicUrls(config, httpPort, config.https.port);
    const publicHost = new URL(planned.https ?? planned.http).hostname;
    const tls = await loadTls(config.dataDir, config.https.cert, config.https.key, { publicHost, log });
    tlsFingerprint = tls.fingerprint;
    const https = createHttpsServer({ cert: tls.cert, key: tls.key, ...tlsServerOptions(config), ...app.classes }, app.listener);
    drainers.push(trackConnections(https));
    httpsPort = await listen(https, config.https.port, config.http.host);
  }

  const frontProxy = core.files.frontProxy;
  const completionPort = frontProxy ? await frontProxy.listen() : null;

  let ftp: FtpServerHandle | null = null;
  if (config.ftp.enabled && ftpResolvers.length > 0) {
    // ftp-srv and its dependencies (bunyan, lodash, moment, bluebird: ~3 MB of heap) only when FTP is served.
    const { startFtpServer } = await import('./transport/ftp-server.ts');
    ftp = await startFtpServer(config, ftpResolvers, log.child({ transport: 'ftp' }), core);
  }
  // Ports chosen by the OS (port 0) are only known now: device files must carry the real ones.
  Object.assign(core.urls, publicUrls(config, httpPort, httpsPort, ftp?.port ?? null));
  rememberServedUrls(core.store, core.urls);

  log.info({ http: httpPort, https: httpsPort, ftp: ftp?.port ?? null, publicUrl: core.urls.http, data: config.dataDir }, 'APS listening');
  if (frontProxy) log.info({ prefix: frontProxy.config.prefix, completionPort }, 'front-proxy mode: artifacts are handed to nginx');
  if (tlsFingerprint) log.info({ fingerprint: tlsFingerprint }, 'HTTPS certificate SHA-256 fingerprint');
  const sealed = core.devices.sealStoredSecrets();
  if (sealed > 0) log.info({ records: sealed }, 'sealed secret variables stored in clear by an older APS');
  // Counted per profile by one query: listing (and opening) every device of a 100,000-device store here
  // made start-up's peak RSS 436 MiB (bench/README.md).
  const orphans = core.devices.countByProfile().filter((p) => core.adapterNameOf(p.profile) === undefined);
  if (orphans.length > 0) {
    log.warn(
      { count: orphans.reduce((n, p) => n + p.count, 0), profiles: orphans.map((p) => p.profile) },
      'devices whose profile no longer exists are refused until moved to another profile (aps device list shows them)',
    );
  }
  const loose = looseModes(config.dataDir);
  if (loose.length > 0) {
    log.warn(
      { data: config.dataDir, paths: loose.slice(0, 20), count: loose.length },
      'the data folder holds files or folders other local users may read (APS creates them 0600/0700): chmod -R go-rwx it',
    );
  }
  // Housekeeping: the event log and expired adapter state are pruned at start and hourly.
  const prune = (): void => {
    const n = core.events.prune(config.eventRetentionDays);
    if (n > 0) log.info({ events: n, retentionDays: config.eventRetentionDays }, 'pruned old events');
  };
  prune();
  const housekeeping = setInterval(prune, 3_600_000).unref();
  // openCore swept the temp files of writers gone before this start; this finds those of a CLI command
  // (`aps artifact import`) killed beside the running server.
  const sweep = (): void => {
    const removed = sweepLeftovers(config.dataDir, true);
    if (removed.length > 0) log.warn({ removed: removed.length }, 'removed temp files left by an interrupted write');
  };
  const sweeper = setInterval(sweep, config.sweepMinutes * 60_000).unref();
  // Schedules start only once the server is up, so a first sync never races start-up.
  const sources = startSources(core, rolloutSourceHooks(core));
  const rollouts = startRolloutTicker(core, config.rollouts.tickSeconds);
  const windowPush = startWindowPush(core);

  return {
    core,
    adminToken: token,
    httpPort,
    httpsPort,
    ftpPort: ftp?.port ?? null,
    ftpMounts,
    routes: [...routers].flatMap(([name, router]) => listRoutes(router, `/${name}`)),
    tlsFingerprint,
    sources,
    rollouts,
    windowPush,
    async close(opts = {}): Promise<void> {
      const graceMs = opts.graceMs ?? config.shutdownGraceSeconds * 1000;
      const deadline = Date.now() + graceMs;
      // No window push starts once shutting down.
      await windowPush.stop();
      rollouts.stop();
      clearInterval(housekeeping);
      clearInterval(sweeper);
      // Stop accepting first, and stop the syncs at the same time, so none writes to the store after it is closed.
      // FTP refuses new connections at the same moment and lets its downloads finish within the same grace.
      const [cut, ftpCut] = await Promise.all([
        Promise.all(drainers.map((d) => d.drain(graceMs))).then((n) => n.reduce((a, b) => a + b, 0)),
        ftp ? ftp.close(graceMs) : 0,
        sources.stop(),
      ]);
      if (cut > 0) log.warn({ connections: cut, graceMs }, 'shutdown: requests still running at the deadline were cut');
      if (ftpCut > 0) log.warn({ downloads: ftpCut, graceMs }, 'shutdown: FTP downloads still running at the deadline were cut');
      // A download records its event after its connection has closed (its file is closed first): wait for that
      // too, or the store closes under it and the event is lost. Bounded like the drain: a send never hangs it.
      await Promise.race([core.inFlight.settled(), new Promise((r) => setTimeout(r, Math.max(1_000, deadline - Date.now())).unref())]);
      // nginx may still be sending what APS handed over: its reports are awaited until the same deadline.
      await frontProxy?.close(deadline - Date.now());
      for (const a of adapters) await a.close?.();
      forgetServedUrls(core.store);
      core.close();
    },
  };
}
