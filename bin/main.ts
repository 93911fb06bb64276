// The composition root: hands the adapter list to the vendor-blind core and runs the CLI.
// bin/aps.js loads this file compiled (dist/bin/main.js) or, with APS_SOURCE=1, from source through tsx;
// `node dist/bin/main.js serve` runs it with no launcher at all (the Docker image does).
import { ADAPTERS } from '../adapters/index.ts';
import { main } from '../src/cli/main.ts';

// `aps device list | head`: a reader that stops early is normal, not a crash with a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  throw e;
});
process.exitCode = await main(process.argv, ADAPTERS);
