#!/usr/bin/env node
// Entry point of `aps` and `npm start`: TypeScript runs through tsx, so there is no build step to remember.
// This file is also the composition root: it hands the adapter list to the vendor-blind core.
import { register } from 'tsx/esm/api';

register();
const { ADAPTERS } = await import('../adapters/index.ts');
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv, ADAPTERS);
