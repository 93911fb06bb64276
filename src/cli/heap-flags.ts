import { setFlagsFromString } from 'node:v8';

/**
 * V8's young generation cap for `aps serve`, in MB per semi-space (the new space is two of them). Node's
 * default lets it grow to 16 (32 MB of new space, resident after the first busy second, ~16 MB of an idle
 * server's RSS); 4 bounds it to 8 MB. 2 saved 4 MB more but scavenges twice as often: at thousands of
 * requests a second (bench:info) it measured worse than 4 (bench/README.md, "Memory"). V8 reads it only when
 * the heap is set up, so it must be on the node command line: `npm start`, the Dockerfile's CMD and
 * bin/aps.js's `#!` line carry this exact text (pinned by test/heap-flags.test.ts); NODE_OPTIONS accepts it.
 */
export const SEMI_SPACE_FLAG = '--max-semi-space-size=4';

/**
 * How far V8 lets the old generation grow past what the last full GC kept, in percent. Left to itself, V8
 * picks up to 300 % on a machine with gigabytes of memory: a server whose live heap is ~40 MB sat on 100+ MB
 * of garbage between full collections under load. 50 % keeps it near the live set, for more (concurrent)
 * marking work per request. V8 reads this flag at each limit computation, so unlike the semi-space it can
 * be set from inside the process; NODE_OPTIONS refuses it.
 */
export const HEAP_GROWING_FLAG = '--heap-growing-percent=50';

/**
 * Applies HEAP_GROWING_FLAG to this process unless the operator put their own on the node command line
 * (`node --heap-growing-percent=100 bin/aps.js serve`). Returns the flag applied, or null.
 */
export function applyServeHeapFlags(execArgv: readonly string[] = process.execArgv): string | null {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return null;
  setFlagsFromString(HEAP_GROWING_FLAG);
  return HEAP_GROWING_FLAG;
}
