#!/usr/bin/env node
// Runs every *.test.ts under src/, adapters/ and test/ with node:test through tsx (no build needed).
// Node 20's --test expands no globs and silently runs nothing on a folder, so the list is built here
// and an empty list is an error, not a green run.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const roots = ['src', 'adapters', 'test'];
const filter = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

let files = roots.flatMap((r) => walk(join(root, r), [])).sort();
if (filter.length > 0) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  cwd: root,
  stdio: 'inherit',
  // APS_SOURCE=1: every `aps` a test spawns (bin/aps.js) runs the current TypeScript sources through tsx,
  // never a dist/ built before the last edit. test/build.test.ts checks the compiled output itself.
  env: { ...process.env, APS_LOG_LEVEL: process.env.APS_LOG_LEVEL ?? 'silent', APS_SOURCE: '1' },
});
process.exit(r.status ?? 1);
