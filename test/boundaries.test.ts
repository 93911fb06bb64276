import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

// DESIGN "Rules of the house": the core never imports from adapters/, and adapters never import each
// other. Checked on every test run, so a violation fails CI rather than waiting for review.
const root = new URL('..', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => (m[1] ?? m[2])!,
  );
}

describe('module boundaries', () => {
  it('src/ imports nothing from adapters/', () => {
    const bad = files(join(root, 'src')).flatMap((f) =>
      imports(f)
        .filter((i) => i.includes('adapters/'))
        .map((i) => `${relative(root, f)} -> ${i}`),
    );
    assert.deepEqual(bad, []);
  });

  it('adapters import no other adapter', () => {
    const bad: string[] = [];
    for (const name of readdirSync(join(root, 'adapters'))) {
      const dir = join(root, 'adapters', name);
      if (!statSync(dir).isDirectory()) continue;
      for (const f of files(dir)) {
        for (const i of imports(f)) {
          const m = /^\.\.\/([^./][^/]*)\//.exec(i);
          if (m && m[1] !== name) bad.push(`${relative(root, f)} -> ${i}`);
        }
      }
    }
    assert.deepEqual(bad, []);
  });
});
