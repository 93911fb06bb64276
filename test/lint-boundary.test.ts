import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { ADAPTER_CORE_INTERNAL, ADAPTER_OUTSIDE, INDEX_ONLY, SRC_NO_ADAPTERS, boundaryConfigs } from '../eslint/boundaries.js';

// The module boundary is a lint rule (eslint/boundaries.js, part of eslint.config.js). These cases lint
// virtual files at real paths with the very same rule objects. Type-aware parsing needs files the
// TypeScript project knows, so this ESLint instance parses without type information: the boundary rules
// need none.
const root = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...boundaryConfigs],
});

/** The boundary messages ESLint reports for `code` at `filePath` (relative to the repository). */
async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  assert.ok(result, 'ESLint returned a result');
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], 'the code parses');
  return result.messages.map((m) => m.message);
}

async function assertRefused(filePath: string, code: string, message: string): Promise<void> {
  const got = await violations(filePath, code);
  assert.equal(got.length, 1, `${filePath}: one violation for ${code}, got ${JSON.stringify(got)}`);
  assert.ok(got[0]!.includes(message), `${filePath}: ${got[0]}`);
}

async function assertAllowed(filePath: string, code: string): Promise<void> {
  assert.deepEqual(await violations(filePath, code), [], `${filePath}: ${code}`);
}

describe('lint boundary (a): src/ never imports adapters/', () => {
  it('refuses named, side-effect, re-export, dynamic and type-level imports reaching adapters/', async () => {
    await assertRefused('src/server.ts', `import { ADAPTERS } from '../adapters/index.ts';`, SRC_NO_ADAPTERS);
    await assertRefused('src/cli/main.ts', `import '../../adapters/vop/index.ts';`, SRC_NO_ADAPTERS);
    await assertRefused('src/core.ts', `export * from '../adapters/tr069/index.ts';`, SRC_NO_ADAPTERS);
    await assertRefused('src/core.ts', `import type { Adapter } from '../adapters/index.ts';`, SRC_NO_ADAPTERS);
    await assertRefused('src/core.ts', `export const m = await import('../adapters/index.ts');`, SRC_NO_ADAPTERS);
    await assertRefused('src/core.ts', 'export const m = await import(`../adapters/vop/index.ts`);', SRC_NO_ADAPTERS);
    await assertRefused('src/core.ts', `export type M = typeof import('../adapters/index.ts');`, SRC_NO_ADAPTERS);
    await assertRefused('src/core.ts', `export const m: unknown = require('../adapters/index.ts');`, SRC_NO_ADAPTERS);
    await assertRefused('src/store/index.ts', `import { x } from '../render/../../adapters/vop/render.ts';`, SRC_NO_ADAPTERS);
  });

  it('lets the core import itself, packages and builtins', async () => {
    await assertAllowed(
      'src/server.ts',
      [
        `import type { Adapter } from './adapter.ts';`,
        `import { x } from './adapter-api.ts';`,
        `import { y } from '../src/store/index.ts';`,
        `import express from 'express';`,
        `import { readFileSync } from 'node:fs';`,
        `export const e = await import('node:events');`,
      ].join('\n'),
    );
  });
});

describe('lint boundary (b): adapters import their own folder and src/adapter-api.ts only', () => {
  it('refuses a core module other than src/adapter-api.ts', async () => {
    await assertRefused('adapters/vop/render.ts', `import { Store } from '../../src/store/index.ts';`, ADAPTER_CORE_INTERNAL);
    await assertRefused('adapters/vop/render.ts', `import '../../src/fs-atomic.ts';`, ADAPTER_CORE_INTERNAL);
    await assertRefused('adapters/tr069/acs.ts', `export { ApsError } from '../../src/errors.ts';`, ADAPTER_CORE_INTERNAL);
    await assertRefused('adapters/vop/index.ts', `export const s = await import('../../src/store/index.ts');`, ADAPTER_CORE_INTERNAL);
  });

  it("refuses another adapter's folder, however it is spelled", async () => {
    await assertRefused('adapters/vop/render.ts', `import { x } from '../tr069/xml-tree.ts';`, ADAPTER_OUTSIDE);
    await assertRefused('adapters/vop/render.ts', `import { x } from '../../adapters/tr069/xml-tree.ts';`, ADAPTER_OUTSIDE);
    await assertRefused('adapters/vop/render.ts', `import './fixtures/../../audiocodes/ini-doc.ts';`, ADAPTER_OUTSIDE);
    await assertRefused('adapters/vop/render.ts', `import { ADAPTERS } from '../index.ts';`, ADAPTER_OUTSIDE);
    await assertRefused('adapters/vop/render.ts', `export const t = await import('../tr069/index.ts');`, ADAPTER_OUTSIDE);
    await assertRefused('adapters/vop/sub/deep.ts', `import { x } from '../../tr069/xml-tree.ts';`, ADAPTER_OUTSIDE);
  });

  it('refuses test/ from production adapter code, and test/ outside helpers and conformance from tests', async () => {
    await assertRefused('adapters/vop/simulator.ts', `import { startTestServer } from '../../test/helpers/server.ts';`, ADAPTER_OUTSIDE);
    await assertRefused('adapters/vop/vop.e2e.test.ts', `import { x } from '../../test/cli.test.ts';`, ADAPTER_OUTSIDE);
    await assertRefused('adapters/vop/vop.e2e.test.ts', `import { Store } from '../../src/store/index.ts';`, ADAPTER_CORE_INTERNAL);
  });

  it('allows its own folder, src/adapter-api.ts, packages, and test helpers in test files', async () => {
    await assertAllowed(
      'adapters/vop/render.ts',
      [
        `import { ApsError, type AdapterContext } from '../../src/adapter-api.ts';`,
        `import { vopFiles } from './files.ts';`,
        `import './fixtures/data.ts';`,
        `import YAML from 'yaml';`,
        `import { join } from 'node:path';`,
      ].join('\n'),
    );
    await assertAllowed(
      'adapters/vop/vop.e2e.test.ts',
      [
        `import { startTestServer } from '../../test/helpers/server.ts';`,
        `import { runConformance } from '../../test/conformance/suite.ts';`,
        `import { defineAdapter } from '../../src/adapter-api.ts';`,
        `import { vopAdapter } from './index.ts';`,
      ].join('\n'),
    );
    await assertAllowed(
      'adapters/vop/sub/deep.ts',
      `import { x } from '../render.ts';\nimport { y } from '../../../src/adapter-api.ts';\nimport { z } from './near.ts';`,
    );
  });

  it('adapters/index.ts imports only each adapter index.ts and src/adapter-api.ts', async () => {
    await assertAllowed(
      'adapters/index.ts',
      `import type { Adapter } from '../src/adapter-api.ts';\nimport { vopAdapter } from './vop/index.ts';`,
    );
    await assertRefused('adapters/index.ts', `import { render } from './vop/render.ts';`, INDEX_ONLY);
    await assertRefused('adapters/index.ts', `import type { Adapter } from '../src/adapter.ts';`, INDEX_ONLY);
  });

  it('refuses files nested deeper than the generated depth blocks rather than leaving them unchecked', async () => {
    const got = await violations('adapters/vop/a/b/c/d/x.ts', `export const x = 1;`);
    assert.equal(got.length, 1);
    assert.match(got[0]!, /MAX_DEPTH/);
  });
});

describe('lint boundary: eslint.config.js runs these rules', () => {
  it('the project config resolves to the same boundary rule options for src, adapter and adapter-test files', async () => {
    const project = new ESLint({ cwd: root });
    const byName = new Map(boundaryConfigs.map((c) => [c.name, c]));
    const cases: Array<[string, string]> = [
      ['src/cli/main.ts', 'aps/boundary/src'],
      ['adapters/index.ts', 'aps/boundary/adapters-index'],
      ['adapters/vop/render.ts', 'aps/boundary/adapters-depth-0'],
      ['adapters/vop/vop.e2e.test.ts', 'aps/boundary/adapter-tests-depth-0'],
    ];
    for (const [file, name] of cases) {
      const resolved = (await project.calculateConfigForFile(file)) as { rules: Record<string, unknown[]> };
      const expected = byName.get(name)!.rules!;
      for (const rule of ['no-restricted-imports', 'no-restricted-syntax']) {
        assert.equal(resolved.rules[rule]![0], 2, `${file}: ${rule} is an error`);
        assert.deepEqual(resolved.rules[rule]!.slice(1), (expected[rule] as unknown[]).slice(1), `${file}: ${rule} options`);
      }
    }
  });
});
