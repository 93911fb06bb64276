import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// `npm run build`: the console into dist/console/, served by the server under /ui (hashed file names in
// assets/ are cached for a year). No CDN and nothing fetched at run time: everything is bundled.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // No source maps in the shipped build; the budget is 150 KB gzip for the first page.
    sourcemap: false,
    reportCompressedSize: false,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
