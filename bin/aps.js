#!/usr/bin/env node
// Entry point of `aps` and `npm start`: TypeScript runs through tsx, so there is no build step to remember.
// This file is also the composition root: it hands the adapter list to the vendor-blind core.
import { register } from 'tsx/esm/api';

register();
// `aps device list | head`: a reader that stops early is normal, not a crash with a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  throw e;
});
const { ADAPTERS } = await import('../adapters/index.ts');
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv, ADAPTERS);
