#!/usr/bin/env node
// Prints the console's bundle sizes (raw and gzip) after `vite build`, and fails when what the first page
// loads (index.html, its scripts and styles, not the chunks loaded on demand) is over the 150 KB gzip budget.
// Writes each asset's .gz beside it: the server sends those to browsers that accept gzip.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const BUDGET = 150 * 1024;
const dir = fileURLToPath(new URL('../dist/console', import.meta.url));
const gz = (file) => {
  const z = gzipSync(readFileSync(file), { level: 9 });
  if (file.includes('/assets/')) writeFileSync(`${file}.gz`, z);
  return z.length;
};
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

const html = readFileSync(join(dir, 'index.html'), 'utf8');
// The entry's own files, and the chunks it preloads: everything the first page needs.
const initial = new Set(['index.html', ...[...html.matchAll(/(?:src|href)="\/ui\/([^"]+)"/g)].map((m) => m[1])]);
let first = 0;
for (const f of [
  'index.html',
  ...readdirSync(join(dir, 'assets'))
    .filter((f) => !f.endsWith('.gz'))
    .map((f) => `assets/${f}`),
]) {
  const size = readFileSync(join(dir, f)).length;
  const z = gz(join(dir, f));
  if (initial.has(f)) first += z;
  console.log(`console: ${f.padEnd(44)} ${kb(size).padStart(10)}  gzip ${kb(z).padStart(9)}${initial.has(f) ? '  (first load)' : ''}`);
}
console.log(`console: first load ${kb(first)} gzip (budget ${kb(BUDGET)})`);
if (first > BUDGET) {
  console.error('console: over the first-load budget');
  process.exit(1);
}
