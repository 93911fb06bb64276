import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { conformanceSuite, type ConformanceServer } from './conformance/suite.ts';
import { tempDir } from './helpers/server.ts';

// The production build (`npm run build`, run by `npm install` through `prepare`): compiled into a fresh
// folder inside the project (so node_modules and profiles/ resolve as they do from dist/), then run with
// plain node, no TypeScript loader: the compiled CLI answers and the compiled server passes the suite.

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'build-test-admin-token-0123';

mkdirSync(join(ROOT, '.scratch'), { recursive: true });
const outDir = mkdtempSync(join(ROOT, '.scratch', 'build-test-'));
process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));

let building: Promise<void> | undefined;
/** tsc with the build config into outDir, once per process. */
function build(): Promise<void> {
  building ??= exec(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir],
    {
      cwd: ROOT,
    },
  ).then(() => undefined);
  return building;
}

/** The environment of a compiled child: none of the test runner's APS_* settings (APS_SOURCE among them). */
function plainEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('APS_')) env[k] = v;
  return { ...env, ...extra };
}

function emitted(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) emitted(p, out);
    else out.push(relative(outDir, p));
  }
  return out;
}

interface CompiledServer extends ConformanceServer {
  auth: string;
}

/** `node <outDir>/bin/main.js serve` on ports 0 over a fresh data folder; resolves on its "APS listening" line. */
async function startCompiled(): Promise<CompiledServer> {
  await build();
  const dataDir = tempDir('aps-build-');
  const args = ['serve', '--data', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--ftp-port', '0'];
  const child = spawn(process.execPath, [join(outDir, 'bin/main.js'), ...args], {
    cwd: dataDir, // profiles/ must come from the package folder, not the cwd
    env: plainEnv({ APS_LOG_LEVEL: 'info', APS_ADMIN_TOKEN: TOKEN }),
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const listening = await new Promise<{ http: number; https: number; ftp: number | null }>((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`no "APS listening" line:\n${stdout}${stderr}`))), 30_000);
    void exited.then((code) => reject(new Error(`compiled server exited ${code}:\n${stdout}${stderr}`)));
    child.stdout.on('data', (c) => {
      stdout += c;
      const line = stdout.split('\n').find((l) => l.includes('"APS listening"'));
      if (!line) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { http: number; https: number; ftp: number | null });
    });
  });
  return {
    http: `http://127.0.0.1:${listening.http}`,
    https: `https://127.0.0.1:${listening.https}`,
    ftpPort: listening.ftp,
    dataDir,
    auth: `Bearer ${TOKEN}`,
    async stop(): Promise<void> {
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `compiled server exit code; stderr:\n${stderr}`);
    },
  };
}

describe('production build', () => {
  // outDir goes when the process exits: the conformance run below still needs it.
  before(build);

  it('emits JavaScript only, with .js specifiers, and no test files', () => {
    const files = emitted(outDir);
    assert.ok(files.includes(join('bin', 'main.js')));
    assert.ok(files.includes(join('src', 'server.js')));
    assert.ok(files.includes(join('adapters', 'index.js')));
    assert.deepEqual(
      files.filter((f) => !f.endsWith('.js')),
      [],
    );
    assert.deepEqual(
      files.filter((f) => f.endsWith('.test.js')),
      [],
    );
    for (const f of files) {
      const js = readFileSync(join(outDir, f), 'utf8');
      assert.ok(!/\bfrom\s+["'][^"']+\.ts["']/.test(js), `${f} imports a .ts specifier`);
      assert.ok(!/["']tsx(\/[^"']*)?["']/.test(js), `${f} imports tsx`);
    }
  });

  it('answers `aps --help` and a command on a fresh data folder', async () => {
    const help = await exec(process.execPath, [join(outDir, 'bin/main.js'), '--help'], { env: plainEnv({}) });
    assert.match(help.stdout, /^Usage: aps /);
    const data = tempDir('aps-build-cli-');
    const list = await exec(process.execPath, [join(outDir, 'bin/main.js'), 'device', 'list', '--json', '--data', data], {
      cwd: data,
      env: plainEnv({ APS_LOG_LEVEL: 'silent' }),
    });
    assert.deepEqual(JSON.parse(list.stdout), { items: [], next: null });
    assert.ok(existsSync(join(data, 'aps.sqlite')));
  });
});

/** Admin API calls the suites below set up their devices and artifacts with: the wire, as an operator would. */
async function api(s: CompiledServer, path: string, init: RequestInit): Promise<void> {
  const r = await fetch(`${s.http}/api/v1${path}`, { ...init, headers: { authorization: s.auth, ...init.headers } });
  assert.equal(r.status, 201, `${path}: ${await r.text()}`);
}

function addDevice(s: CompiledServer, body: object): Promise<void> {
  return api(s, '/devices', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function addArtifact(s: CompiledServer, filename: string, fields: Record<string, string>): Promise<void> {
  const form = new FormData();
  form.set('file', new Blob([Buffer.alloc(4096, 7)]), filename);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return api(s, '/artifacts', { method: 'POST', body: form });
}

// The shared suite against the compiled server in its own process (the same cases as the adapters' own runs).
conformanceSuite<CompiledServer>({
  adapter: 'vop, compiled build',
  start: startCompiled,
  async prepare(s) {
    await addDevice(s, { id: 'alice', profile: 'vop', password: 'alice-pw', vars: { sip_password: 'sip-secret-a' } });
    await addDevice(s, { id: 'bob', profile: 'vop', password: 'bob-pw' });
    await addArtifact(s, 'vop-fw.bin', { kind: 'firmware', profile: 'vop', version: '2.0', serial: '20' });
    const url = (t: string, u: string, p: string): string => `${s.http}/vop/${t}?u=${u}&p=${p}&v=1`;
    return {
      own: { url: url('c', 'alice', 'alice-pw') },
      ownArtifact: { url: url('f', 'alice', 'alice-pw') },
      otherOwn: { url: url('c', 'bob', 'bob-pw') },
      crossDevice: { url: `${url('c', 'alice', 'alice-pw')}&u=bob` },
      badCredentials: { url: url('c', 'alice', 'wrong') },
      unknownDevice: { url: url('c', 'mallory', 'alice-pw') },
      secrets: ['alice', 'alice-pw', 'mallory', 'sip-secret-a', 'password', s.dataDir],
    };
  },
});

const basic = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

// AudioCodes covers what VOP does not: Basic auth, MAC-named files and the FTP mount.
conformanceSuite<CompiledServer>({
  adapter: 'audiocodes, compiled build',
  ftp: true,
  start: startCompiled,
  async prepare(s) {
    const gw = { profile: 'audiocodes-mp124' };
    await addDevice(s, { ...gw, id: 'gw-alice', mac: '00908FC00001', password: 'alice-pw', vars: { sip_proxy: 'secret-proxy.example' } });
    await addDevice(s, { ...gw, id: 'gw-bob', mac: '00908FC00002', password: 'bob-pw' });
    await addArtifact(s, 'MP124.cmp', { kind: 'firmware', profile: 'audiocodes-mp124', version: '6.60A.360.002' });
    const ini = (mac: string): string => `${s.http}/audiocodes/${mac}.ini`;
    return {
      own: { url: ini('00908FC00001'), headers: basic('gw-alice', 'alice-pw') },
      ownArtifact: { url: `${s.http}/audiocodes/00908FC00001/cmp/MP124_6.60A.360.002.cmp`, headers: basic('gw-alice', 'alice-pw') },
      otherOwn: { url: ini('00908FC00002'), headers: basic('gw-bob', 'bob-pw') },
      crossDevice: {
        url: ini('00908FC00002'),
        headers: { ...basic('gw-alice', 'alice-pw'), 'User-Agent': 'Mozilla/4.0 (compatible; AudioCodes; MP-124;6.60A;00908FC00002;1)' },
      },
      ftp: { user: 'gw-alice', password: 'alice-pw', own: '/00908FC00001.ini', other: '/00908FC00002.ini' },
      badCredentials: { url: ini('00908FC00001'), headers: basic('gw-alice', 'wrong') },
      unknownDevice: { url: ini('00908FC0FFFF'), headers: basic('gw-alice', 'alice-pw') },
      secrets: ['gw-alice', 'alice-pw', '00908FC00001', '00908fc00001', 'secret-proxy', 'password', s.dataDir],
    };
  },
});
