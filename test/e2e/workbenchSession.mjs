// One end-to-end session: the freshly packaged VSIX installed in one code-server, one Chromium on it
// and one test IdP, all recorded under one artifacts folder. A test file starts it in `before` and
// stops it in `after`; what it started is kept on `env` as it goes, so `after` stops exactly that,
// even when the set-up failed half way.

import fs from 'node:fs';
import path from 'node:path';

import { launchChromium, openWorkbench, waitForWorkbenchReady } from './browser.mjs';
import { DEFAULT_SETTINGS, installExtension, startCodeServer } from './codeServer.mjs';
import { packageExtension } from './extensionPackage.mjs';
import { startIdpProcess } from './idpProcess.mjs';
import { REPO_ROOT, provision } from './provision.mjs';
import { runFolders } from './runFolders.mjs';
import { copyExtensionLogs, passLedgersOn } from './runRecords.mjs';
import { waitForActivations } from './workbench.mjs';

const UI_TIMEOUT = 60_000;

/**
 * Fills `env` with artifactsDir, work, secretLedger, userDataDir, extensionsDir, idp, server, browser,
 * page and context, and sets env.ready once the extension has activated. `settings(idp)` gives the
 * user settings code-server starts with; `report` receives the VSIX's size and vsce's output.
 */
export async function startWorkbench(env, { label, idp: idpOptions = {}, settings = () => DEFAULT_SETTINGS, report = {}, log = () => {} }) {
  const provisioned = await provision();
  Object.assign(env, runFolders(label));
  report.artifactsDir = path.relative(REPO_ROOT, env.artifactsDir);
  log(`artifacts: ${env.artifactsDir}`);

  log('building the VSIX (npm run package)...');
  const packaged = await packageExtension(path.join(env.work, 'vsix'));
  report.vsixBytes = packaged.bytes;
  report.packageOutput = packaged.output;
  env.idp = await startIdpProcess({
    ...idpOptions,
    secretLedger: env.secretLedger,
    onStderr: (chunk) => fs.appendFileSync(path.join(env.artifactsDir, 'idp.log'), chunk),
  });
  await installExtension(packaged.vsix, env.extensionsDir, { provisioned });

  env.server = await startCodeServer({
    provisioned,
    extensionsDir: env.extensionsDir,
    userDataDir: env.userDataDir,
    folder: path.join(env.work, 'workspace'),
    settings: settings(env.idp),
    defaultSettings: false,
    logFile: path.join(env.artifactsDir, 'code-server.log'),
    scratchDir: path.join(env.work, 'code-server-home'),
  });
  env.browser = await launchChromium({ artifactsDir: env.artifactsDir });
  env.page = env.browser.page;
  env.context = env.browser.context;
  await env.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(env.server.url).origin });
  await openWorkbench(env.page, env.server.url, { timeoutMs: UI_TIMEOUT });
  await waitForWorkbenchReady(env.page, { timeoutMs: UI_TIMEOUT });
  await waitForActivations(env.userDataDir, 1);
  env.ready = true;
}

/** Stops what `startWorkbench` started, keeps the extension's logs and writes `report` as report.json. */
export async function stopWorkbench(env, report) {
  if (env.browser) await env.browser.close().catch(() => {});
  if (env.server) await env.server.stop().catch(() => {});
  if (env.idp) await env.idp.stop().catch(() => {});
  if (env.artifactsDir) {
    if (env.userDataDir) copyExtensionLogs(env.userDataDir, env.artifactsDir);
    passLedgersOn(env.secretLedger, env.userDataDir);
    report.finishedAt = new Date().toISOString();
    fs.writeFileSync(path.join(env.artifactsDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  }
  if (env.work) fs.rmSync(env.work, { recursive: true, force: true, maxRetries: 3 });
}
