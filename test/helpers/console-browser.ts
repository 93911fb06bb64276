// The console in real headless Chromium (Debian's package; .ci/run installs it) through playwright-core:
// shared by the console's browser tests. Screenshots go to test-results/console/ (git-ignored) for a person
// to look at; script errors and anything the Content-Security-Policy blocked are collected in `problems`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PACKAGE_ROOT } from '../../src/config.ts';
import { CONSOLE_DIR } from '../../src/transport/console-ui.ts';
import type { TestServer } from './server.ts';

export const SHOTS = join(PACKAGE_ROOT, 'test-results', 'console');

export interface ConsoleBrowser {
  browser: Browser;
  page: Page;
  /** Script errors and CSP refusals seen so far: none by the end of a test file. */
  problems: string[];
  /** A full-page screenshot to test-results/console/<name>.png. */
  shot: (name: string) => Promise<Buffer>;
}

/** Builds the console if it is not built, and opens one page in Chromium. */
export async function openConsoleBrowser(): Promise<ConsoleBrowser> {
  if (!existsSync(join(CONSOLE_DIR, 'index.html'))) execFileSync('npm', ['run', 'build:console'], { cwd: PACKAGE_ROOT, stdio: 'ignore' });
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Uncaught/i.test(m.text())) problems.push(m.text());
  });
  return { browser, page, problems, shot: (name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true }) };
}

/** Logs in on the login page (the page is there already, or `/ui/` sends it there) with `token`. */
export async function logIn(page: Page, s: TestServer, token = s.adminToken): Promise<void> {
  if (new URL(page.url()).pathname !== '/ui/login') await page.goto(`${s.http}/ui/`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
}
