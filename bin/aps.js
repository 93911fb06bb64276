#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point of `aps` and `npm start`. It runs the compiled JavaScript in dist/ (built by `npm install`
// through the `prepare` script, or `npm run build`): no TypeScript loader at run time.
// APS_SOURCE=1 runs the TypeScript sources through tsx instead (a dev dependency): the test runner sets it,
// so tests always exercise the current sources, never a stale dist/.
// The `#!` line caps V8's young generation (src/cli/heap-flags.ts SEMI_SPACE_FLAG: V8 takes it only on the
// command line, before the heap exists); `npm start` and the Dockerfile pass the same flag to node.
import { existsSync, readdirSync, statSync } from 'node:fs';

/** The newest modification time of the compiled sources (not tests) under these folders, 0 when none. */
function newestSource(root, dirs) {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'fixtures') continue;
      const p = new URL(`${e.name}${e.isDirectory() ? '/' : ''}`, dir);
      if (e.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) {
    const dir = new URL(`${d}/`, root);
    if (existsSync(dir)) walk(dir);
  }
  return newest;
}

if (process.env.APS_SOURCE === '1') {
  const tsx = await import('tsx/esm/api').catch(() => undefined);
  if (!tsx) {
    console.error('aps: APS_SOURCE=1 needs the dev dependencies (tsx): run `npm install` in the APS folder');
    process.exit(1);
  }
  tsx.register();
  await import('./main.ts');
} else {
  const compiled = new URL('../dist/bin/main.js', import.meta.url);
  if (!existsSync(compiled)) {
    console.error('aps: not built yet (no dist/bin/main.js): run `npm install` or `npm run build` in the APS folder');
    process.exit(1);
  }
  // In a source checkout (not the Docker image, which has no sources), a dist/ older than the sources is
  // code from before a `git pull` or an edit: running it against a database newer code migrated is refused.
  const root = new URL('../', import.meta.url);
  if (process.env.APS_SKIP_BUILD_CHECK !== '1' && newestSource(root, ['bin', 'src', 'adapters']) > statSync(compiled).mtimeMs) {
    console.error(
      'aps: dist/ is older than the sources (changed since the last build): run `npm run build` (or `npm run build:watch`), or set APS_SOURCE=1 to run the sources',
    );
    process.exit(1);
  }
  // The console (dist/console, built by the same `npm run build`) from older sources would call an API it no longer matches.
  const consoleBuilt = new URL('../dist/console/index.html', import.meta.url);
  if (
    process.env.APS_SKIP_BUILD_CHECK !== '1' &&
    existsSync(consoleBuilt) &&
    newestSource(root, ['console/src']) > statSync(consoleBuilt).mtimeMs
  ) {
    console.error(
      'aps: dist/console is older than console/src (changed since the last build): run `npm run build` (APS_SOURCE=1 serves the same dist/console), or set APS_SKIP_BUILD_CHECK=1 to serve it as it is',
    );
    process.exit(1);
  }
  await import(compiled.href);
}
