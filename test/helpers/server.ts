import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { ADAPTERS } from '../../adapters/index.ts';
import { loadConfig, type ConfigInput } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import type { CoreOptions } from '../../src/core.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

export interface TestServer extends RunningServer {
  dataDir: string;
  http: string;
  https: string;
  /** Authorization header value for the admin API. */
  auth: string;
  stop(): Promise<void>;
}

const madeDirs: string[] = [];
// Each test file runs in its own process: whatever a test forgot to remove goes when that process ends.
process.once('exit', () => {
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp folder, removed at the latest when the test process exits. */
export function tempDir(prefix = 'aps-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/**
 * A real server on ephemeral loopback ports over a fresh temp data folder (real SQLite, real blobs); `log`
 * to read its log lines (test/helpers/log-capture.ts), silent otherwise.
 */
export async function startTestServer(
  overrides: ConfigInput = {},
  dataDir = tempDir(),
  log?: Logger,
  opts: CoreOptions = {},
): Promise<TestServer> {
  const config = loadConfig({
    env: {},
    file: undefined,
    overrides: {
      dataDir,
      logLevel: 'silent',
      adminToken: 'test-admin-token-0123456789',
      http: { host: '127.0.0.1', port: 0 },
      https: { enabled: true, port: 0 },
      ftp: { enabled: true, port: 0, pasvMin: 41000, pasvMax: 41999 },
      // Every request of a test file comes from 127.0.0.1: the per-address guard and the refusal log's
      // summing would tie unrelated tests together. test/access-guard.test.ts turns both back on.
      access: { exemptNetworks: '127.0.0.0/8 ::1', refusalsLoggedPerMinute: 1_000_000 },
      ...overrides,
    },
  });
  const server = await startServer(config, ADAPTERS, log ?? createLogger(process.env.APS_TEST_LOG ?? 'silent'), opts);
  return {
    ...server,
    dataDir,
    http: `http://127.0.0.1:${server.httpPort}`,
    https: `https://127.0.0.1:${server.httpsPort}`,
    auth: `Bearer ${server.adminToken}`,
    async stop(): Promise<void> {
      // No grace: a test's idle keep-alive connections are cut at once (test/shutdown.test.ts covers the grace).
      await server.close({ graceMs: 0 });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RawAnswer {
  status: number;
  body: string;
  h: Record<string, unknown>;
}

/** One request on a fresh connection with the path sent exactly as given (fetch and URL would normalise `..`, `%2f`). */
export function rawRequest(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const r = httpRequest({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, h: res.headers }));
    });
    r.on('error', reject);
    r.end();
  });
}
