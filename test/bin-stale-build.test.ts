import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { APS_BIN } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

const run = promisify(execFile);

// bin/aps.js runs dist/; in a source checkout it refuses a dist/ older than the sources (after a git pull
// or an edit without a rebuild), so old code never runs against a database newer code migrated.
describe('bin/aps.js and a stale dist/', () => {
  const root = tempDir('aps-bin-');
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'dist', 'bin'), { recursive: true });
  mkdirSync(join(root, 'src'));
  copyFileSync(APS_BIN, join(root, 'bin', 'aps.js'));
  writeFileSync(join(root, 'dist', 'bin', 'main.js'), "console.log('compiled ran');\n");
  writeFileSync(join(root, 'src', 'core.ts'), 'export {};\n');
  writeFileSync(join(root, 'src', 'core.test.ts'), 'export {};\n');
  const env = { ...process.env, APS_SOURCE: '', APS_SKIP_BUILD_CHECK: '' };
  const at = (file: string, seconds: number): void => utimesSync(join(root, file), seconds, seconds);

  it('runs dist/ when it is newer than every source file (tests do not count)', async () => {
    at('src/core.ts', 1_000_000);
    at('src/core.test.ts', 3_000_000);
    at('dist/bin/main.js', 2_000_000);
    const { stdout } = await run(process.execPath, [join(root, 'bin', 'aps.js')], { env });
    assert.equal(stdout.trim(), 'compiled ran');
  });

  it('refuses, saying how to rebuild, when a source is newer', async () => {
    at('src/core.ts', 4_000_000);
    await assert.rejects(
      run(process.execPath, [join(root, 'bin', 'aps.js')], { env }),
      (e: { code: number; stderr: string; stdout: string }) => {
        assert.equal(e.code, 1);
        assert.match(e.stderr, /dist\/ is older than the sources .*npm run build/);
        assert.equal(e.stdout, '');
        return true;
      },
    );
  });

  it('refuses a dist/console older than the console sources (.tsx too), and runs once it is rebuilt', async () => {
    at('src/core.ts', 1_000_000);
    mkdirSync(join(root, 'console', 'src'), { recursive: true });
    mkdirSync(join(root, 'dist', 'console'), { recursive: true });
    writeFileSync(join(root, 'console', 'src', 'app.tsx'), 'export {};\n');
    writeFileSync(join(root, 'dist', 'console', 'index.html'), '<!doctype html>\n');
    at('console/src/app.tsx', 3_000_000);
    at('dist/console/index.html', 2_500_000);
    await assert.rejects(run(process.execPath, [join(root, 'bin', 'aps.js')], { env }), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /dist\/console is older than console\/src .*npm run build/);
      return true;
    });
    at('dist/console/index.html', 3_500_000);
    const { stdout } = await run(process.execPath, [join(root, 'bin', 'aps.js')], { env });
    assert.equal(stdout.trim(), 'compiled ran');
  });
});
