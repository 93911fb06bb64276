import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { readableLogLine } from '../src/cli/context.ts';
import { apsCli } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

// A CLI command's log lines go to stderr as readable lines: stdout holds only the command's result (so
// `--json` output parses), and no raw JSON log line comes before the readable message.
describe('CLI log output', () => {
  let env: NodeJS.ProcessEnv;
  const { aps } = apsCli(() => env);
  const run = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    aps(...args).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  before(() => {
    const data = tempDir('aps-cli-log-');
    const config = join(data, 'aps.yaml');
    writeFileSync(
      config,
      ['sources:', '  - { name: lab, type: folder, path: /nonexistent/aps-drop, profile: vop, kind: firmware }'].join('\n'),
    );
    env = { ...process.env, APS_DATA: data, APS_CONFIG: config };
    delete env.APS_LOG_LEVEL;
    delete env.APS_LOG_FORMAT;
    delete env.APS_DEBUG;
  });

  it('a failing sync: the result alone on stdout, the log line readable on stderr', async () => {
    const text = await run('sync');
    assert.equal(text.code, 2);
    assert.match(text.stdout.split('\n')[0]!, /^lab: ERROR folder source "lab": ENOENT/, 'the readable result comes first');
    assert.ok(!/^\{/m.test(text.stdout + text.stderr), `no raw JSON log line:\n${text.stdout}${text.stderr}`);
    assert.match(
      text.stderr,
      /^aps: error: folder source: run failed \(component=sources, run=\d+, source=lab, err=folder source "lab": ENOENT/m,
    );

    const json = await run('sync', '--json');
    assert.equal(json.code, 2);
    const results = JSON.parse(json.stdout) as Array<{ source: string; ok: boolean }>;
    assert.deepEqual(
      results.map((r) => [r.source, r.ok]),
      [['lab', false]],
    );
  });

  it('APS_LOG_FORMAT=json keeps JSON log lines, on stderr', async () => {
    env = { ...env, APS_LOG_FORMAT: 'json' };
    const r = await run('sync', '--json');
    JSON.parse(r.stdout);
    const line = JSON.parse(r.stderr.split('\n')[0]!) as { level: number; msg: string };
    assert.deepEqual([line.level, line.msg], [50, 'folder source: run failed']);
  });

  it('an error with a stack shows its message only, the stack with APS_DEBUG', () => {
    const line = JSON.stringify({
      level: 50,
      time: 1,
      app: 'aps',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.ts:1)' },
      msg: 'oops',
    });
    assert.equal(readableLogLine(line, false), 'aps: error: oops (err=boom)\n');
    assert.equal(readableLogLine(line, true), 'aps: error: oops (err=boom)\nError: boom\n    at x (y.ts:1)\n');
  });
});
