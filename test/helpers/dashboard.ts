/**
 * Helpers for the dashboard's end-to-end tests (and the lead's full-demo test): build the bundle,
 * find or install Debian's chromium, launch it headless through playwright-core, open the
 * dashboard signed in, and save screenshots under test-artifacts/dashboard/.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AcdError } from '../../src/common/errors.ts';
import { servicesRequired } from './tools.ts';

const execFileAsync = promisify(execFile);

/** The repository root. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** Where the built dashboard lives (the API server's `dashboardDir`). */
export const DASHBOARD_DIST = join(REPO_ROOT, 'dashboard', 'dist');
/** Where screenshots go (gitignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts', 'dashboard');
/** Debian's chromium. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for headless chromium on this machine (MACHINE-NOTES): no sandbox (root), no GPU, and no
 * background networking, whose connections the closed network would refuse at every start.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Chromium is absent and could not be installed. */
export class BrowserUnavailableError extends AcdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BROWSER_UNAVAILABLE', message, options);
  }
}

/**
 * True when chromium is there. When it is absent: under `ACD_REQUIRE_SERVICES=1` installs it with
 * apt-get (and throws {@link BrowserUnavailableError} if that fails); otherwise returns false so the
 * caller skips with {@link CHROMIUM_SKIP_NOTE}.
 */
export async function ensureChromium(): Promise<boolean> {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (!servicesRequired()) return false;
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await execFileAsync('apt-get', ['update', '-qq'], { env, timeout: 300_000 });
    await execFileAsync('apt-get', ['install', '-y', '-qq', 'chromium'], { env, timeout: 600_000 });
  } catch (err) {
    throw new BrowserUnavailableError('chromium is missing and apt-get install chromium failed', {
      cause: err,
    });
  }
  if (!existsSync(CHROMIUM_PATH))
    throw new BrowserUnavailableError(`apt-get installed chromium but ${CHROMIUM_PATH} is absent`);
  return true;
}

/** The message of a skipped browser test. */
export const CHROMIUM_SKIP_NOTE = `skipped: ${CHROMIUM_PATH} not installed (apt-get install chromium, or ACD_REQUIRE_SERVICES=1 to install it)`;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds dashboard/dist with vite unless it is newer than every source file. */
export async function ensureDashboardBuilt(): Promise<string> {
  const index = join(DASHBOARD_DIST, 'index.html');
  const sources = Math.max(
    newestMtime(join(REPO_ROOT, 'dashboard', 'src')),
    statSync(join(REPO_ROOT, 'dashboard', 'index.html')).mtimeMs,
    statSync(join(REPO_ROOT, 'dashboard', 'vite.config.ts')).mtimeMs,
  );
  if (!existsSync(index) || statSync(index).mtimeMs < sources) {
    await execFileAsync(
      process.execPath,
      [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'dashboard'],
      {
        cwd: REPO_ROOT,
        timeout: 120_000,
      },
    );
  }
  return DASHBOARD_DIST;
}

/**
 * Launches headless chromium. playwright's `launch` gives every browser a fresh temporary profile
 * (its own --user-data-dir) and deletes it on close.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** An opened dashboard. */
export interface OpenedDashboard {
  context: BrowserContext;
  page: Page;
  /** Milliseconds from navigation start to the first rendered view (the page's `acd-first-render` mark or the nav bar). */
  firstRenderMs: number;
}

/** Options of {@link openDashboard}. */
export interface OpenDashboardOptions {
  /** Hash route to open after signing in (`#/incidents`); the overview by default. */
  route?: string;
  colorScheme?: 'light' | 'dark';
  viewport?: { width: number; height: number };
}

/**
 * Opens the dashboard at `baseUrl` signed in with `token` (through the `#token=` convenience of
 * the page, which stores it for the tab and strips it from the URL) and waits for the app shell.
 */
export async function openDashboard(
  browser: Browser,
  baseUrl: string,
  token: string,
  options: OpenDashboardOptions = {},
): Promise<OpenedDashboard> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1400, height: 1000 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  const route = (options.route ?? '#/overview').replace(/^#/, '');
  const sep = route.includes('?') ? '&' : '?';
  await page.goto(`${baseUrl.replace(/\/$/, '')}/#${route}${sep}token=${encodeURIComponent(token)}`);
  await page.locator('header.top nav').waitFor({ state: 'visible' });
  const firstRenderMs = await page.evaluate(
    'performance.getEntriesByName("acd-first-render")[0]?.startTime ?? performance.now()',
  );
  return { context, page, firstRenderMs: typeof firstRenderMs === 'number' ? firstRenderMs : Number.NaN };
}

/** Saves a full-page screenshot as test-artifacts/dashboard/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
