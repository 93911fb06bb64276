import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ApsError } from './errors.ts';
import { sourcesSchema } from './sources/source-config.ts';
import { isNetwork } from './transport/trusted-proxies.ts';

/**
 * The project folder (where package.json and the demo profiles live), whatever the cwd: the nearest folder
 * above this module that holds a package.json, so it is the same from src/ (tsx) and from dist/src/ (compiled).
 */
export const PACKAGE_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '..');
  }
}

const port = z.number().int().min(0).max(65535);

// Strict objects everywhere: an unknown key in aps.yaml fails start-up naming the key.
export const configSchema = z
  .object({
    dataDir: z.string().min(1).default('data'),
    profilesDir: z.string().min(1).optional(),
    publicUrl: z.string().url().optional(),
    adminToken: z.string().min(16).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    http: z
      .object({
        host: z.string().default('0.0.0.0'),
        port: port.default(8080),
        /**
         * The slowest a device download may go (bytes/s, 0: no limit), over HTTP(S) and FTP alike, measured over
         * each period of `minSendRateGraceSeconds`: a client reading slower is cut off (the event or log line says so).
         */
        minSendRate: z.number().int().min(0).default(1024),
        minSendRateGraceSeconds: z.number().min(0.1).default(60),
        /**
         * Front-proxy mode (README "Behind nginx"): artifacts are handed to nginx with X-Accel-Redirect to
         * `<prefix><sha[0:2]>/<sha>` (an internal location over data/blobs), and nginx reports each transfer's
         * end by syslog over UDP to completionHost:completionPort, so events stay exact. Only a request that
         * came through one of `trustedProxies` is handed over, and only their reports are read.
         */
        frontProxy: z
          .object({
            mode: z.literal('x-accel'),
            prefix: z
              .string()
              .regex(/^\/[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*\/$/, 'must be a path like /_blobs/')
              .default('/_blobs/'),
            completionHost: z.string().default('127.0.0.1'),
            completionPort: z.number().int().min(0).max(65535).default(5514),
            completionTimeoutSeconds: z.number().int().min(1).default(3600),
            /** Hand-overs awaiting nginx's report at most; past it the oldest is recorded as unconfirmed. */
            maxPending: z.number().int().min(1).default(10_000),
          })
          .strict()
          .optional(),
        /**
         * The reverse proxies (addresses or CIDR networks) whose X-Forwarded-For / X-Forwarded-Proto APS believes,
         * and, in front-proxy mode, the only peers a download is handed to and a transfer report is read from.
         * Default: loopback (127.0.0.0/8, ::1) in front-proxy mode, none otherwise: every other client's
         * X-Forwarded-* headers are ignored.
         */
        trustedProxies: z.array(z.string().refine((s) => isNetwork(s), 'must be an IP address or CIDR network')).optional(),
      })
      .strict()
      .default({ host: '0.0.0.0', port: 8080, minSendRate: 1024, minSendRateGraceSeconds: 60 }),
    https: z
      .object({
        enabled: z.boolean().default(true),
        port: port.default(8443),
        cert: z.string().optional(),
        key: z.string().optional(),
      })
      .strict()
      .default({ enabled: true, port: 8443 }),
    /**
     * TLS of the HTTPS listener. `ciphers` (an OpenSSL cipher string) replaces the default list for sites
     * whose old devices need something else; the default has no CBC-SHA1 suite (src/transport/tls.ts).
     */
    tls: z
      .object({
        minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
        ciphers: z.string().min(1).optional(),
      })
      .strict()
      .default({ minVersion: 'TLSv1.2' }),
    ftp: z
      .object({
        enabled: z.boolean().default(true),
        port: port.default(2121),
        /**
         * The IPv4 address PASV announces to non-loopback clients. Default: the public URL's host when it is
         * an IPv4 address, else the address the client reached APS on (see src/transport/ftp-server.ts).
         */
        pasvUrl: z.ipv4({ message: 'must be an IPv4 address (the address PASV announces)' }).optional(),
        pasvMin: port.default(40000),
        pasvMax: port.default(40100),
        anonymous: z.boolean().default(false),
        /** A control connection silent this long is closed (not during a transfer); before login, `loginSeconds`. */
        idleSeconds: z.number().int().min(1).default(300),
        loginSeconds: z.number().int().min(1).default(30),
        /** Control connections one client address may hold at once, and passive listeners it may keep open. */
        maxConnectionsPerAddress: z.number().int().min(1).default(10),
        maxPassivePerAddress: z.number().int().min(1).default(4),
      })
      .strict()
      .default({
        enabled: true,
        port: 2121,
        pasvMin: 40000,
        pasvMax: 40100,
        anonymous: false,
        idleSeconds: 300,
        loginSeconds: 30,
        maxConnectionsPerAddress: 10,
        maxPassivePerAddress: 4,
      }),
    /**
     * How long a device password verified against a legacy scrypt hash is remembered (seconds), so polls
     * never re-run scrypt (keyed hashes cost microseconds and are not remembered). An entry dies with a
     * password change (its key covers the stored hash).
     */
    credentialCacheSeconds: z.number().int().min(0).default(86_400),
    /** Device events older than this are pruned (hourly) so the log does not grow without end; 0 keeps all. */
    eventRetentionDays: z.number().int().min(0).default(90),
    /**
     * On SIGTERM/SIGINT the server stops accepting and lets requests in flight (downloads, management sessions
     * on their connection) finish for at most this long before it cuts them; docker-compose's
     * stop_grace_period is a few seconds longer.
     */
    shutdownGraceSeconds: z.number().int().min(0).max(3600).default(25),
    /** How often a running server removes temp files a killed writer left (minutes; start-up always does). */
    sweepMinutes: z.number().int().min(1).max(10_080).default(60),
    /** Device backups (configurations the devices upload): how many to keep per device, how large each may be. */
    backups: z
      .object({
        keep: z.number().int().min(1).max(10_000).default(20),
        maxBytes: z
          .number()
          .int()
          .min(1)
          .default(1024 * 1024),
      })
      .strict()
      .default({ keep: 20, maxBytes: 1024 * 1024 }),
    /**
     * Maintenance windows (README "Maintenance windows"): at a window's start (`push: true` on the window)
     * devices with a pending change are told to check, at most `pushPerSecond` of them a second; the
     * server looks for window starts at least every `checkSeconds`.
     */
    windows: z
      .object({
        pushPerSecond: z.number().positive().max(1000).default(5),
        checkSeconds: z.number().positive().max(3600).default(30),
      })
      .strict()
      .default({ pushPerSecond: 5, checkSeconds: 30 }),
    /**
     * Password guessing (src/transport/access-guard.ts): failed credential checks are counted per device and
     * per client address; past `freeFailures` each further try waits an exponential back-off, and at
     * `lockAfter` the subject is locked for `lockSeconds` (even the right password is refused; `aps access
     * unlock` clears it). A count is forgotten `forgetSeconds` after its last failure, a device's also on a
     * success. Addresses in `exemptNetworks` (a site's NAT) are tracked per device only.
     */
    access: z
      .object({
        device: z
          .object({ freeFailures: z.number().int().min(0).default(5), lockAfter: z.number().int().min(1).default(20) })
          .strict()
          .default({ freeFailures: 5, lockAfter: 20 }),
        address: z
          .object({ freeFailures: z.number().int().min(0).default(20), lockAfter: z.number().int().min(1).default(100) })
          .strict()
          .default({ freeFailures: 20, lockAfter: 100 }),
        backoffSeconds: z.number().min(0).default(1),
        maxBackoffSeconds: z.number().min(0).default(60),
        lockSeconds: z.number().int().min(1).default(900),
        forgetSeconds: z.number().int().min(1).default(86_400),
        exemptNetworks: z.string().default(''),
        /** Refusals from one address logged (and recorded as events) one by one per minute; the rest are summed up. */
        refusalsLoggedPerMinute: z.number().int().min(0).default(10),
        /**
         * Client addresses (IPv6: /64 prefixes) with failures kept one by one in the store, and refusal-log
         * windows kept in memory; beyond, they count together as "other addresses".
         */
        maxTrackedAddresses: z.number().int().min(1).default(10_000),
      })
      .strict()
      .default({
        device: { freeFailures: 5, lockAfter: 20 },
        address: { freeFailures: 20, lockAfter: 100 },
        backoffSeconds: 1,
        maxBackoffSeconds: 60,
        lockSeconds: 900,
        forgetSeconds: 86_400,
        exemptNetworks: '',
        refusalsLoggedPerMinute: 10,
        maxTrackedAddresses: 10_000,
      }),
    /** Each adapter validates its own section with its configSchema. */
    adapters: z.record(z.string(), z.unknown()).default({}),
    /** Upstream artifact sources (local folders, SFTP repositories), synced by `aps sync` or on a schedule. */
    sources: sourcesSchema,
    /**
     * The web console (/ui) and its log-in (POST /api/v1/session) are refused over plain HTTP except to this
     * host itself: `allowHttp: true` serves them anywhere (a trusted network, TLS ended elsewhere without X-Forwarded-Proto).
     */
    console: z
      .object({ allowHttp: z.boolean().default(false) })
      .strict()
      .default({ allowHttp: false }),
    /** Staged rollouts: how often device health is judged (timeouts, promotion) besides when devices report. */
    rollouts: z
      .object({ tickSeconds: z.number().min(0.05).max(3600).default(30) })
      .strict()
      .default({ tickSeconds: 30 }),
  })
  .strict();

export type ApsConfig = Readonly<z.infer<typeof configSchema>> & { readonly profilesDir: string };
export type ConfigInput = z.input<typeof configSchema>;

const ENV: Array<[string, (o: Record<string, any>, v: string) => void]> = [
  ['APS_DATA', (o, v) => (o.dataDir = v)],
  ['APS_PROFILES', (o, v) => (o.profilesDir = v)],
  ['APS_PUBLIC_URL', (o, v) => (o.publicUrl = v)],
  ['APS_ADMIN_TOKEN', (o, v) => (o.adminToken = v)],
  ['APS_LOG_LEVEL', (o, v) => (o.logLevel = v)],
  ['APS_HTTP_PORT', (o, v) => ((o.http ??= {}).port = toPort('APS_HTTP_PORT', v))],
  ['APS_HTTPS_PORT', (o, v) => ((o.https ??= {}).port = toPort('APS_HTTPS_PORT', v))],
  ['APS_FTP_PORT', (o, v) => ((o.ftp ??= {}).port = toPort('APS_FTP_PORT', v))],
  ['APS_FTP_PASV_URL', (o, v) => ((o.ftp ??= {}).pasvUrl = v)],
  ['APS_TRUSTED_PROXIES', (o, v) => ((o.http ??= {}).trustedProxies = v.split(/[\s,]+/).filter(Boolean))],
  ['APS_BACKUPS_KEEP', (o, v) => ((o.backups ??= {}).keep = toInt('APS_BACKUPS_KEEP', v))],
  ['APS_SHUTDOWN_GRACE_SECONDS', (o, v) => (o.shutdownGraceSeconds = toInt('APS_SHUTDOWN_GRACE_SECONDS', v))],
  ['APS_BACKUPS_MAX_BYTES', (o, v) => ((o.backups ??= {}).maxBytes = toInt('APS_BACKUPS_MAX_BYTES', v))],
];

function toPort(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ApsError('invalid_config', `${name}: not a port number: ${v}`);
  return n;
}

function toInt(name: string, v: string): number {
  if (!/^\d{1,15}$/.test(v)) throw new ApsError('invalid_config', `${name}: not a non-negative integer: ${v}`);
  return Number(v);
}

function deepMerge(a: Record<string, any>, b: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' ? deepMerge(out[k], v) : v;
  }
  return out;
}

/** The base URL devices use when APS_PUBLIC_URL is not set: this host's first LAN address. */
export function defaultPublicUrl(scheme: 'http' | 'https', port: number, host?: string): string {
  return `${scheme}://${urlHost(host ?? firstLanAddress())}:${port}`;
}

/** A host as it is written in a URL: an IPv6 literal (a server bound to ::1) in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** This host's first LAN (non-loopback IPv4) address, else 127.0.0.1. Interfaces that are down are not listed. */
export function firstLanAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export interface LoadConfigOptions {
  /** Values from CLI flags: the last word. */
  overrides?: ConfigInput;
  env?: NodeJS.ProcessEnv;
  /** aps.yaml path; default APS_CONFIG or ./aps.yaml when present. */
  file?: string;
}

/** Defaults, then aps.yaml, then APS_* env, then flags; validated once and frozen. */
export function loadConfig(opts: LoadConfigOptions = {}): ApsConfig {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.APS_CONFIG ?? (existsSync('aps.yaml') ? 'aps.yaml' : undefined);
  let fromFile: Record<string, any> = {};
  if (file) {
    try {
      fromFile = (parseYaml(readFileSync(file, 'utf8')) as Record<string, any>) ?? {};
    } catch (e) {
      throw new ApsError('invalid_config', `${file}: ${(e as Error).message}`);
    }
  }
  const fromEnv: Record<string, any> = {};
  for (const [name, set] of ENV) if (env[name] !== undefined && env[name] !== '') set(fromEnv, env[name]!);
  const merged = deepMerge(deepMerge(fromFile, fromEnv), (opts.overrides ?? {}) as Record<string, any>);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApsError('invalid_config', `${file ?? 'configuration'}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const c = parsed.data;
  const dataDir = resolve(c.dataDir);
  const profilesDir = resolve(c.profilesDir ?? (existsSync('profiles') ? 'profiles' : resolve(PACKAGE_ROOT, 'profiles')));
  const publicUrl = c.publicUrl?.replace(/\/+$/, '');
  return Object.freeze({ ...c, dataDir, profilesDir, publicUrl });
}
