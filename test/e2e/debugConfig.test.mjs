// End-to-end: the repository's F5 set-up (.vscode/launch.json, tasks.json, extensions.json) as
// code-server 4.139.1 (VS Code 1.139.1) reads it, on a copy of the repository.
//
//   node --test --test-reporter=spec test/e2e/debugConfig.test.mjs
//
// D1 The three files open without a single problem: VS Code validates them against its launch and
//    tasks schemas (the debuggers' attributes included); a misspelt property put in on purpose
//    afterwards shows up, so the check can see one.
// D2 Run and Debug offers the three configurations.
// D3 "Debug Current Test File" stops at a breakpoint set in a unit test's TypeScript source.
// D4 "Run Extension": the watch build (its pre-launch task) writes dist/, its background matcher
//    ends (otherwise the launch would wait for it forever), a debug session starts, and an extension
//    development host opens on this folder.
// D5 The "sandbox identity provider" task starts the test IdP on 127.0.0.1:28140 and points the
//    development host's own settings at it.
// What code-server cannot show (breakpoints bound in the development host, the desktop-only
// arguments of the sandbox configuration) is listed in CONTRIBUTING.md.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { launchChromium, openWorkbench, screenshot, waitForWorkbenchReady } from './browser.mjs';
import { DEFAULT_SETTINGS, startCodeServer } from './codeServer.mjs';
import { killGroup } from './processGroups.mjs';
import { REPO_ROOT, provision } from './provision.mjs';
import { runFolders } from './runFolders.mjs';

const UI_TIMEOUT = 60_000;
const SANDBOX_ISSUER = 'http://127.0.0.1:28140';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const env = {};

/** Runs a command from the palette by its title (a fresh palette each time). */
async function command(title) {
  const { page } = env;
  const input = page.locator('.quick-input-widget .quick-input-box input');
  for (let i = 0; i < 3 && (await input.isVisible()); i++) {
    await page.keyboard.press('Escape');
    await sleep(300);
  }
  await page.locator('.part.editor').first().click({ timeout: 5000 }).catch(() => {});
  await page.keyboard.press('F1');
  await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await input.fill(`>${title}`);
  await choose(new RegExp(`^${escapeRegExp(title)}`));
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Clicks the row of the open quick input (a picker a command opened) whose text matches. */
async function choose(row) {
  await env.page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: row }).first().click({ timeout: UI_TIMEOUT });
}

async function openFile(relative) {
  const { page } = env;
  await page.locator('.part.editor').first().click({ timeout: 5000 }).catch(() => {});
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await input.fill(relative);
  await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: path.basename(relative) }).first().waitFor({ timeout: UI_TIMEOUT });
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: path.basename(relative) }).first().waitFor({ timeout: UI_TIMEOUT });
}

/** The Problems panel's rows, once the markers have had time to settle. */
async function problems() {
  const { page } = env;
  await command('View: Focus Problems');
  await sleep(2000);
  return page.locator('.markers-panel .monaco-list-row').allTextContents();
}

async function until(what, probe, timeoutMs = UI_TIMEOUT) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(500);
  }
}

describe('the F5 set-up in code-server', { timeout: 10 * 60_000 }, () => {
  before(async () => {
    const provisioned = await provision();
    Object.assign(env, runFolders('debug-config'));
    // A copy of the repository as git sees it, so the watch build writes its own dist/.
    env.folder = path.join(env.work, 'repo');
    fs.mkdirSync(env.folder);
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter((file) => file && !/^(node_modules|dist|\.cache)\//.test(file) && fs.existsSync(path.join(REPO_ROOT, file)));
    for (const file of files) fs.cpSync(path.join(REPO_ROOT, file), path.join(env.folder, file));
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(env.folder, 'node_modules'));
    env.server = await startCodeServer({
      provisioned,
      extensionsDir: env.extensionsDir,
      userDataDir: env.userDataDir,
      folder: env.folder,
      // The npm task provider runs the tasks of type "npm".
      settings: { ...DEFAULT_SETTINGS, 'npm.autoDetect': 'on' },
      defaultSettings: false,
      logFile: path.join(env.artifactsDir, 'code-server.log'),
    });
    env.browser = await launchChromium({ artifactsDir: env.artifactsDir });
    env.page = env.browser.page;
    await openWorkbench(env.page, env.server.url, { timeoutMs: UI_TIMEOUT });
    await waitForWorkbenchReady(env.page, { timeoutMs: UI_TIMEOUT });
  });

  after(async () => {
    const pidFile = path.join(env.folder ?? '', '.cache/debug-sandbox/idp.pid');
    if (fs.existsSync(pidFile)) killGroup(Number(fs.readFileSync(pidFile, 'utf8')));
    await env.browser?.close().catch(() => {});
    await env.server?.stop().catch(() => {});
  });

  it('D1: launch.json, tasks.json and extensions.json have no problem; a misspelt property would show', async () => {
    for (const file of ['.vscode/launch.json', '.vscode/tasks.json', '.vscode/extensions.json']) await openFile(file);
    const found = await problems();
    await screenshot(env.page, 'problems');
    assert.deepEqual(found, [], 'VS Code reports nothing in the .vscode files');

    const tasks = path.join(env.folder, '.vscode/tasks.json');
    const original = fs.readFileSync(tasks, 'utf8');
    fs.writeFileSync(tasks, original.replace('"isBackground": true', '"isBackgrund": true'));
    try {
      const seen = await until('the misspelt property reported', async () => (await problems()).find((row) => /isBackgrund/.test(row)));
      assert.match(seen, /not allowed/);
    } finally {
      fs.writeFileSync(tasks, original);
    }
    await until('the problem gone again', async () => (await problems()).length === 0);
  });

  it('D2: Run and Debug offers the three configurations', async () => {
    await command('Debug: Select and Start Debugging');
    const rows = env.page.locator('.quick-input-widget .monaco-list-row');
    await rows.first().waitFor({ timeout: UI_TIMEOUT });
    const names = await rows.allTextContents();
    await screenshot(env.page, 'configurations');
    for (const name of [/^Run Extension(Most Recent|launch\.json)?$/, /^Run Extension: sandbox identity provider/, /^Debug Current Test File/]) {
      assert.ok(names.some((text) => name.test(text)), `${name} in ${JSON.stringify(names)}`);
    }
    await env.page.keyboard.press('Escape');
  });

  it('D3: "Debug Current Test File" stops at a breakpoint in a unit test (tsx source maps)', async () => {
    const { page } = env;
    await openFile('test/unit/scopes.test.ts');
    // Line 7: the first assertion of the first test. Each step is checked before the next, so a
    // keystroke lost to a busy machine is retried, not found out two minutes later.
    const cursorOnLine7 = page.locator('.statusbar-item', { hasText: /Ln 7, Col/ });
    await until('the cursor on line 7', async () => {
      if (await cursorOnLine7.count()) return true;
      await page.locator('.part.editor .monaco-editor .view-lines').first().click({ timeout: 5000 }).catch(() => {});
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(':7');
      await page.keyboard.press('Enter');
      await sleep(500);
      return (await cursorOnLine7.count()) > 0;
    });
    const breakpoint = page.locator('.part.editor .monaco-editor .codicon-debug-breakpoint');
    await until('the breakpoint on line 7', async () => {
      if (await breakpoint.count()) return true;
      await page.keyboard.press('F9');
      await sleep(1000);
      return (await breakpoint.count()) > 0;
    });
    await command('Debug: Select and Start Debugging');
    await choose(/^Debug Current Test File/);
    try {
      await page.getByText(/Paused On Breakpoint/i).first().waitFor({ state: 'visible', timeout: 2 * UI_TIMEOUT });
    } catch (error) {
      await screenshot(page, 'test-file-not-paused').catch(() => {});
      throw error;
    }
    const frame = page.locator('.monaco-list-row', { hasText: /test\/unit\/scopes\.test\.ts/ }).first();
    assert.match((await frame.textContent()) ?? '', /scopes\.test\.ts\s*7:\d+$/, 'paused on line 7 of the TypeScript source');
    await screenshot(page, 'test-file-paused');
    await page.keyboard.press('Shift+F5');
    await page.keyboard.press('F9').catch(() => {});
  });

  it('D4: "Run Extension" builds with the watch task and starts a development host on this folder', async () => {
    const built = path.join(env.folder, 'dist/extension.js');
    assert.ok(!fs.existsSync(built), 'no build before F5');
    const opened = env.browser.context.waitForEvent('page', { timeout: 2 * UI_TIMEOUT });
    await command('Debug: Select and Start Debugging');
    await choose(/^Run Extension(Most Recent|launch\.json)?$/);
    const devHost = await opened;
    assert.ok(fs.existsSync(built), 'the pre-launch task built dist/extension.js before the launch');
    assert.ok(fs.existsSync(`${built}.map`), 'with a source map, for breakpoints in src/');
    const payload = JSON.parse(new URL(devHost.url()).searchParams.get('payload') ?? '[]');
    const developmentPath = payload.find(([key]) => key === 'extensionDevelopmentPath')?.[1] ?? '';
    assert.equal(new URL(developmentPath).pathname, env.folder, 'the development host runs this folder as the extension');
    await until('a debug session in the status bar', () => env.page.locator('.statusbar-item', { hasText: 'Run Extension' }).first().isVisible());
    await screenshot(env.page, 'debugging');
    await env.page.keyboard.press('Shift+F5');
    await devHost.close().catch(() => {});
  });

  it('D5: the "sandbox identity provider" task starts the test IdP and writes the development host\'s settings', async () => {
    await command('Tasks: Run Task');
    await choose(/^sandbox identity provider/);
    const metadata = await until(
      'the test IdP answering',
      () =>
        fetch(`${SANDBOX_ISSUER}/.well-known/openid-configuration`)
          .then((response) => (response.ok ? response.json() : undefined))
          .catch(() => undefined),
      2 * UI_TIMEOUT,
    );
    assert.equal(metadata.issuer, SANDBOX_ISSUER);
    const settings = JSON.parse(fs.readFileSync(path.join(env.folder, '.cache/debug-sandbox/user-data/User/settings.json'), 'utf8'));
    assert.equal(settings['oauthAnywhere.issuer'], SANDBOX_ISSUER);
    assert.ok(settings['oauthAnywhere.clientId']);
    await screenshot(env.page, 'sandbox-task');
    await command('Tasks: Terminate Task');
    // With more than one task running, VS Code asks which.
    await choose(/^All Running Tasks/).catch(() => undefined);
    await until('the test IdP stopped with its task', () =>
      fetch(`${SANDBOX_ISSUER}/.well-known/openid-configuration`).then(
        () => false,
        () => true,
      ),
    );
  });
});
