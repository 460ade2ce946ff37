#!/usr/bin/env node
// Smoke run of the end-to-end harness (no OAuth Anywhere build needed):
// provision -> package + install the consumer extension -> start code-server on an empty folder
// -> open the workbench in Chromium -> run the consumer's commands from the command palette
// -> open the Accounts menu -> screenshots -> stop everything.
//
//   node test/e2e/smoke.mjs
//
// Without the OAuth Anywhere provider the consumer's getSession fails ("no provider"): the smoke
// only proves that the command ran and wrote its report. Artifacts (screenshots, logs, report,
// timings.json) go to .cache/e2e/artifacts/<time>-smoke/. Exit code 0 on success.

import fs from 'node:fs';
import path from 'node:path';

import {
  launchChromium,
  menuItems,
  newArtifactsDir,
  notificationTexts,
  openAccountsMenu,
  openWorkbench,
  runCommand,
  screenshot,
  waitForWorkbenchReady,
} from './browser.mjs';
import { installExtension, makeTempDir, packageConsumer, startCodeServer } from './codeServer.mjs';
import { provision } from './provision.mjs';

const GET_SESSION = 'OAuth Anywhere Consumer: Get Session (create if none)';
const GET_SESSION_SILENT = 'OAuth Anywhere Consumer: Get Session (silent)';

function log(message) {
  process.stderr.write(`[e2e smoke] ${message}\n`);
}

async function waitForReport(file, { run, timeoutMs = 30_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (last.status !== 'pending' && (run === undefined || last.run === run)) return last;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no final consumer report in ${file} within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

async function main() {
  const timings = {};
  const t0 = Date.now();
  const provisioned = await provision();
  timings.provisionMs = Date.now() - t0;

  const artifactsDir = newArtifactsDir('smoke');
  log(`artifacts: ${artifactsDir}`);
  const work = makeTempDir('smoke');
  const extensionsDir = path.join(work, 'extensions');
  const userDataDir = path.join(work, 'user-data');
  const folder = path.join(work, 'workspace');
  const reportFile = path.join(artifactsDir, 'consumer-report.json');

  let server;
  let browser;
  try {
    let t = Date.now();
    const vsix = await packageConsumer(path.join(work, 'vsix'));
    timings.packageConsumerMs = Date.now() - t;
    t = Date.now();
    await installExtension(vsix, extensionsDir, { provisioned });
    timings.installExtensionMs = Date.now() - t;

    const spawnedAt = Date.now();
    server = await startCodeServer({
      provisioned,
      extensionsDir,
      userDataDir,
      folder,
      settings: { 'oauthAnywhereConsumer.reportFile': reportFile },
      logFile: path.join(artifactsDir, 'code-server.log'),
    });
    timings.spawnToHealthzMs = server.timings.healthzMs;
    log(`code-server ${provisioned.codeServerVersion} healthy at ${server.url} after ${server.timings.healthzMs} ms`);

    t = Date.now();
    browser = await launchChromium({ artifactsDir });
    timings.chromiumLaunchMs = Date.now() - t;
    const { page } = browser;

    timings.gotoToWorkbenchMs = await openWorkbench(page, server.url);
    timings.spawnToWorkbenchMs = Date.now() - spawnedAt;
    log(`workbench visible ${timings.spawnToWorkbenchMs} ms after spawn`);
    await waitForWorkbenchReady(page);
    timings.spawnToReadyMs = Date.now() - spawnedAt;
    await screenshot(page, 'workbench');

    // The command palette runs the consumer's command (activating the consumer).
    t = Date.now();
    const { attempts } = await runCommand(page, GET_SESSION);
    timings.paletteAttempts = attempts;
    timings.commandFoundAfterSpawnMs = Date.now() - spawnedAt;
    const report = await waitForReport(reportFile, { timeoutMs: 30_000 });
    timings.getSessionCommandToReportMs = Date.now() - t;
    log(`getSession report: status=${report.status} ${report.error ? `error="${report.error.message}"` : ''}`);
    await page.waitForTimeout(500);
    await screenshot(page, 'after-getSession');
    fs.copyFileSync(reportFile, path.join(artifactsDir, 'report-getSession.json'));

    t = Date.now();
    await runCommand(page, GET_SESSION_SILENT);
    const silent = await waitForReport(reportFile, { run: report.run + 1, timeoutMs: 30_000 });
    timings.getSessionSilentCommandToReportMs = Date.now() - t;
    log(`getSessionSilent report: status=${silent.status} ${silent.error ? `error="${silent.error.message}"` : ''}`);
    fs.copyFileSync(reportFile, path.join(artifactsDir, 'report-getSessionSilent.json'));
    const notifications = await notificationTexts(page);
    log(`notifications: ${JSON.stringify(notifications)}`);
    await screenshot(page, 'after-getSessionSilent');

    // The Accounts menu of the activity bar.
    await openAccountsMenu(page);
    await page.waitForTimeout(300);
    const accountItems = await menuItems(page);
    log(`Accounts menu: ${JSON.stringify(accountItems)}`);
    await screenshot(page, 'accounts-menu');
    await page.keyboard.press('Escape');

    const checks = {
      commandRan: report.command === 'getSession' && report.status !== 'pending',
      silentRan: silent.command === 'getSessionSilent' && silent.status !== 'pending',
      remoteExtensionHost: typeof report.env?.remoteName === 'string' && report.env.remoteName.length > 0,
      accountsMenuOpened: accountItems.length > 0,
    };
    const result = {
      ok: Object.values(checks).every(Boolean),
      checks,
      timings,
      codeServer: provisioned.codeServerVersion,
      getSession: { status: report.status, error: report.error?.message, env: report.env },
      getSessionSilent: { status: silent.status, error: silent.error?.message, session: silent.session ?? null },
      accountsMenu: accountItems,
      notifications,
    };
    fs.writeFileSync(path.join(artifactsDir, 'timings.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    if (!result.ok) throw new Error(`smoke checks failed: ${JSON.stringify(checks)}`);
  } catch (err) {
    if (browser) await screenshot(browser.page, 'failure').catch(() => {});
    throw err;
  } finally {
    const t = Date.now();
    await browser?.close();
    await server?.stop();
    timings.teardownMs = Date.now() - t;
    fs.rmSync(work, { recursive: true, force: true });
    log(`done: ${JSON.stringify(timings)}`);
  }
}

main().then(
  () => log('SMOKE OK'),
  (err) => {
    log(`SMOKE FAILED: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  },
);
