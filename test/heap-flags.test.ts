import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { applyServeHeapFlags, HEAP_GROWING_FLAG, SEMI_SPACE_FLAG } from '../src/cli/heap-flags.ts';

const read = (file: string): string => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');

// V8 takes the young generation's size only on the node command line: every way `aps serve` is started
// must carry the same flag, or the memory figures of bench/README.md hold for one of them only.
describe('V8 heap flags of aps serve', () => {
  it('npm start, the Dockerfile CMD and the #! line of bin/aps.js pass the same semi-space flag', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts.start, `node ${SEMI_SPACE_FLAG} bin/aps.js serve`);
    assert.match(read('Dockerfile'), new RegExp(`^CMD \\["node", "${SEMI_SPACE_FLAG}", "dist/bin/main.js", "serve"\\]$`, 'm'));
    assert.equal(read('bin/aps.js').split('\n')[0], `#!/usr/bin/env -S node ${SEMI_SPACE_FLAG}`);
  });

  it('applies the old-generation growth flag, unless the node command line already has one', () => {
    assert.equal(applyServeHeapFlags(['--max-semi-space-size=4']), HEAP_GROWING_FLAG);
    assert.equal(applyServeHeapFlags(['--heap-growing-percent=100']), null);
    assert.equal(applyServeHeapFlags(['--heap_growing_percent=0']), null);
  });
});
