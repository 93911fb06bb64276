#!/usr/bin/env node
// Entry point of `aps` and `npm start`. It runs the compiled JavaScript in dist/ (built by `npm install`
// through the `prepare` script, or `npm run build`): no TypeScript loader at run time.
// APS_SOURCE=1 runs the TypeScript sources through tsx instead (a dev dependency): the test runner sets it,
// so tests always exercise the current sources, never a stale dist/.
import { existsSync } from 'node:fs';

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
  await import(compiled.href);
}
