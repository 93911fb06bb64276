import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The `aps` entry point, run as an operator runs it: a separate node process. */
export const APS_BIN = fileURLToPath(new URL('../../bin/aps.js', import.meta.url));
// bin/aps.js runs dist/ unless APS_SOURCE=1: tests exercise the current sources (npm test sets it too;
// this covers a test file run on its own). Children inherit it through process.env.
process.env.APS_SOURCE ??= '1';

const exec = promisify(execFile);

export interface ApsCli {
  /** Runs `aps <args>`; rejects (with code, stdout, stderr) when it exits non-zero. */
  aps: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;
  /** Runs `aps <args>`, expects exit code 1 and a stderr matching `pattern` without a stack trace; returns stderr. */
  fails: (args: string[], pattern: RegExp) => Promise<string>;
}

/**
 * `aps` and `fails` for one test suite. `env` is read at each call, so a suite can pass a getter for an
 * environment it only sets up in `before()` (a fresh data folder).
 */
export function apsCli(env: NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv)): ApsCli {
  const envOf = (): NodeJS.ProcessEnv => (typeof env === 'function' ? env() : env);
  const aps = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
    exec(process.execPath, [APS_BIN, ...args], { env: envOf() });
  const fails = async (args: string[], pattern: RegExp): Promise<string> => {
    let stderr = '';
    await assert.rejects(aps(...args), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, pattern);
      assert.ok(!/\n\s+at /.test(e.stderr), 'no stack trace');
      stderr = e.stderr;
      return true;
    });
    return stderr;
  };
  return { aps, fails };
}
