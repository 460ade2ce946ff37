// Debian's Chromium driven by playwright-core, and helpers for the VS Code workbench that
// code-server serves. Never runs `playwright install`: the browser is /usr/bin/chromium.
//
//   const browser = await launchChromium({ artifactsDir: newArtifactsDir('my-test') });
//   await openWorkbench(browser.page, server.url);
//   await runCommand(browser.page, 'OAuth Anywhere Consumer: Get Session (create if none)');
//   await screenshot(browser.page, 'after-command');
//   await browser.close();

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { ARTIFACTS_ROOT, CHROMIUM, TMP_ROOT, provision } from './provision.mjs';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export const SELECTORS = {
  workbench: '.monaco-workbench',
  accountsMenu: '.activitybar li.action-item[aria-label^="Accounts"]',
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget .quick-input-box input',
  quickInputRows: '.quick-input-widget .monaco-list-row',
  notificationToast: '.notifications-toasts .notification-toast',
  contextMenu: '.monaco-menu .monaco-action-bar',
};

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

// Artifacts dir of each browser context, so that screenshot(page, name) needs no folder.
const contextArtifacts = new WeakMap();
const screenshotCounters = new Map();
// Profile dirs of browsers that are still open: their processes are killed on exit.
const openProfiles = new Map(); // profile dir -> created by us
let exitHandlerInstalled = false;

let playwrightPromise;

/** playwright-core: the repository's devDependency, else the pinned copy in .cache/e2e. */
export function loadPlaywright() {
  playwrightPromise ??= provision().then((p) => createRequire(import.meta.url)(p.playwrightCoreEntry));
  return playwrightPromise;
}

function stamp() {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** A new folder .cache/e2e/artifacts/<UTC time>-<label>/ for screenshots, logs and reports. */
export function newArtifactsDir(label = 'run') {
  const safe = String(label).replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60);
  const dir = path.join(ARTIFACTS_ROOT, `${stamp()}-${safe}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Pids of processes whose command line names the given Chromium profile folder. */
function chromiumPidsFor(profileDir) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(`--user-data-dir=${profileDir}`)) pids.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return pids;
}

function killChromium(profileDir) {
  for (const pid of chromiumPidsFor(profileDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

function installExitHandler() {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  // Playwright kills its browsers on exit too; this also covers a close() that timed out.
  process.on('exit', () => {
    for (const [dir, owned] of openProfiles) {
      killChromium(dir);
      if (owned) {
        try {
          fs.rmSync(dir, { recursive: true, force: true });
        } catch {
          // a dying Chromium may still write there: .cache/e2e/tmp is pruned later anyway
        }
      }
    }
  });
}

/**
 * A URL without its query and fragment: an OAuth redirect carries the authorization code and state
 * there, and this log is an artifact that the secret-leak scan reads.
 */
export function withoutQuery(url) {
  const cut = url.search(/[?#]/);
  return cut < 0 ? url : `${url.slice(0, cut)}${url[cut]}…`;
}

function attachLogging(page, logFile) {
  const write = (line) => {
    try {
      fs.appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
    } catch {
      // artifacts folder removed: ignore
    }
  };
  page.on('console', (msg) => write(`[console.${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => write(`[pageerror] ${err.stack ?? err.message}`));
  page.on('crash', () => write('[crash] page crashed'));
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) write(`[navigated] ${withoutQuery(frame.url())}`);
  });
}

/**
 * Launches Chromium with a fresh profile (or the given one, to keep browser storage such as
 * VS Code's SecretStorage across launches).
 *
 * @param {object} options
 * @param {string} options.artifactsDir  screenshots and browser-console.log go here
 * @param {string} [options.profileDir]  Chromium user-data dir; default fresh, removed on close()
 * @param {{width: number, height: number}} [options.viewport]
 * @param {string[]} [options.args]      extra Chromium flags
 * @returns {Promise<{context, page, artifactsDir: string, profileDir: string,
 *   screenshot: (name: string, page?) => Promise<string>, close: (opts?) => Promise<void>}>}
 */
export async function launchChromium({
  artifactsDir,
  profileDir,
  viewport = { width: 1280, height: 800 },
  args = [],
  timeoutMs = 30_000,
} = {}) {
  if (!artifactsDir) throw new Error('launchChromium needs artifactsDir');
  fs.mkdirSync(artifactsDir, { recursive: true });
  const { chromium } = await loadPlaywright();
  installExitHandler();
  const ownProfile = !profileDir;
  if (!profileDir) {
    fs.mkdirSync(TMP_ROOT, { recursive: true });
    profileDir = fs.mkdtempSync(path.join(TMP_ROOT, 'chromium-'));
  }
  openProfiles.set(profileDir, ownProfile);
  let context;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, ...args],
      viewport,
      timeout: timeoutMs,
      acceptDownloads: false,
    });
  } catch (err) {
    killChromium(profileDir);
    openProfiles.delete(profileDir);
    throw err;
  }
  contextArtifacts.set(context, artifactsDir);
  const logFile = path.join(artifactsDir, 'browser-console.log');
  for (const page of context.pages()) attachLogging(page, logFile);
  context.on('page', (page) => attachLogging(page, logFile));
  const page = context.pages()[0] ?? (await context.newPage());

  let closed = false;
  const close = async ({ timeoutMs: closeTimeout = DEFAULT_CLOSE_TIMEOUT_MS } = {}) => {
    if (closed) return;
    closed = true;
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), closeTimeout);
    });
    const result = await Promise.race([context.close().then(() => 'closed', () => 'error'), timedOut]);
    clearTimeout(timer);
    if (result !== 'closed') {
      process.stderr.write(`[e2e browser] context.close() ${result === 'timeout' ? `hung for ${closeTimeout} ms` : 'failed'}: killing Chromium\n`);
    }
    killChromium(profileDir);
    openProfiles.delete(profileDir);
    if (ownProfile) fs.rmSync(profileDir, { recursive: true, force: true, maxRetries: 3 });
  };

  return {
    context,
    page,
    artifactsDir,
    profileDir,
    screenshot: (name, target = page) => screenshot(target, name),
    close,
  };
}

/**
 * Saves a PNG of the page as <artifactsDir>/<NN>-<name>.png and returns its path.
 * The folder is the one the page's browser was launched with, unless `dir` is given.
 */
export async function screenshot(page, name, dir) {
  const folder = dir ?? contextArtifacts.get(page.context()) ?? newArtifactsDir('screenshots');
  const n = (screenshotCounters.get(folder) ?? 0) + 1;
  screenshotCounters.set(folder, n);
  const safe = String(name).replace(/[^A-Za-z0-9._-]+/g, '-');
  const file = path.join(folder, `${String(n).padStart(2, '0')}-${safe}.png`);
  await page.screenshot({ path: file, timeout: 15_000 });
  return file;
}

/**
 * Opens the workbench and waits until it is visible. Returns the time it took in ms.
 */
export async function openWorkbench(page, url, { timeoutMs = 60_000 } = {}) {
  const started = Date.now();
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: timeoutMs });
  await page.locator(SELECTORS.workbench).first().waitFor({ state: 'visible', timeout: timeoutMs });
  return Date.now() - started;
}

/**
 * Waits until the workbench is usable for keyboard input: the activity bar and status bar are
 * rendered and the remote connection is up (no "Opening Remote..." in the status bar).
 */
export async function waitForWorkbenchReady(page, { timeoutMs = 60_000 } = {}) {
  await page.locator('.part.activitybar').first().waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.part.statusbar').first().waitFor({ state: 'visible', timeout: timeoutMs });
  await page.waitForFunction(
    () => {
      const bar = document.querySelector('.part.statusbar');
      return !!bar && !/Opening Remote|Reconnecting|Disconnected/i.test(bar.textContent ?? '');
    },
    undefined,
    { timeout: timeoutMs },
  );
}

/**
 * Runs a command by its palette title: F1, type, wait for the matching row, Enter.
 * `title` is what the palette shows, e.g. 'OAuth Anywhere Consumer: Get Session (create if none)'.
 * Returns { attempts }: how often the palette had to be opened until the command was listed.
 */
export async function runCommand(page, title, { timeoutMs = 30_000 } = {}) {
  const input = page.locator(SELECTORS.quickInputBox);
  const row = page.locator(SELECTORS.quickInputRows).filter({ hasText: title }).first();
  const deadline = Date.now() + timeoutMs;
  if (!(await input.isVisible())) {
    // Keyboard focus into the workbench (the empty editor area; clicking it opens nothing).
    await page.locator('.part.editor').first().click({ timeout: 5000 }).catch(() => {});
  }
  // The palette lists the commands known when it opens; an extension whose contributions arrive
  // later (remote extension host still starting) shows up on the next open: retry until found.
  let attempts = 0;
  for (;;) {
    attempts++;
    if (!(await input.isVisible())) {
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: Math.max(1000, deadline - Date.now()) });
    }
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ state: 'visible', timeout: Math.min(3000, Math.max(1, deadline - Date.now())) });
      break;
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(`command "${title}" not found in the command palette after ${attempts} tries (${timeoutMs} ms)`, { cause: error });
      }
      await page.keyboard.press('Escape');
      await input.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => {});
      await page.waitForTimeout(500);
    }
  }
  // Enter runs the first (focused) row; make sure it is the one we mean.
  const first = page.locator(SELECTORS.quickInputRows).first();
  const firstLabel = (await first.getAttribute('aria-label')) ?? (await first.textContent()) ?? '';
  if (!firstLabel.includes(title)) {
    await row.click({ timeout: timeoutMs });
  } else {
    await page.keyboard.press('Enter');
  }
  await input.waitFor({ state: 'hidden', timeout: timeoutMs });
  return { attempts };
}

/** Clicks the Accounts entry of the activity bar; resolves when its menu is shown. */
export async function openAccountsMenu(page, { timeoutMs = 20_000 } = {}) {
  const item = page.locator(SELECTORS.accountsMenu).first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  await item.click({ timeout: timeoutMs });
  const menu = page.locator(SELECTORS.contextMenu).first();
  await menu.waitFor({ state: 'visible', timeout: timeoutMs });
  return menu;
}

/** Texts of the entries of the open context menu (e.g. the Accounts menu). */
export async function menuItems(page) {
  return page.locator('.monaco-menu .action-item .action-label').allTextContents();
}

/** Texts of the visible notification toasts. */
export async function notificationTexts(page) {
  return page.locator(`${SELECTORS.notificationToast} .notification-list-item-message`).allTextContents();
}

/** Waits for a notification toast whose message matches and returns its locator. */
export async function waitForNotification(page, pattern, { timeoutMs = 30_000 } = {}) {
  const toast = page
    .locator(SELECTORS.notificationToast)
    .filter({ has: page.locator('.notification-list-item-message', { hasText: pattern }) })
    .first();
  await toast.waitFor({ state: 'visible', timeout: timeoutMs });
  return toast;
}
