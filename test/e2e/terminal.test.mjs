// End-to-end: the window's sign-in in its integrated terminal, in code-server + Chromium, against
// the test IdP and the test git server (git http-backend, accepting only tokens the IdP accepts).
//
//   node --test --test-reporter=spec test/e2e/terminal.test.mjs
//
// The packaged VSIX is installed; its `bin/oauth-anywhere` must be executable as installed. In a
// new integrated terminal, not signed in yet:
//   T1 `git clone` of the test server's repository: the consent modal (git, for the git server) ->
//      "Always Allow for This Tool" -> the device-code sign-in the tool started -> approved at the
//      IdP -> the clone finishes.
//   T2 `oauth-anywhere token --json`: the consent modal (token) -> "Allow Once" -> a token the IdP
//      accepts, with expiry, scopes and account.
//   T3 `oauth-anywhere status` and `ls` in the terminal, for the screenshot; the endpoint's socket
//      is 0600 in a 0700 directory.
// Results are read from files the commands write, never from the terminal's canvas. Artifacts:
// .cache/e2e/artifacts/<UTC time>-terminal/ (screenshots, report.json, outputs without tokens,
// extension logs); the last test scans them for every secret the IdP issued.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { launchChromium, openWorkbench, runCommand, screenshot, waitForWorkbenchReady } from './browser.mjs';
import { DEFAULT_SETTINGS, installExtension, startCodeServer } from './codeServer.mjs';
import { packageExtension } from './extensionPackage.mjs';
import { startIdpProcess } from './idpProcess.mjs';
import { REPO_ROOT, cleanEnv, provision } from './provision.mjs';
import { runFolders } from './runFolders.mjs';
import { copyExtensionLogs, lastExtensionLogLine, passLedgersOn, readSecretLedger, scanArtifacts } from './runRecords.mjs';
import { startSupportProcess } from './supportProcess.mjs';
import { EXTENSION_ID, clickDialogButton, dialog, dialogText, parseDeviceNotification, toast, toastMessage, waitForActivations } from './workbench.mjs';

const UI_TIMEOUT = 60_000;
const STEP_TIMEOUT = 4 * 60_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message) => process.stderr.write(`[e2e terminal] ${message}\n`);

const env = {};
const report = { tier: 'e2e-terminal', startedAt: new Date().toISOString(), checks: {}, screenshots: [], artifactsCheck: undefined };

async function shot(name) {
  const file = await screenshot(env.page, name);
  report.screenshots.push(path.relative(REPO_ROOT, file));
  return file;
}

/** Types a command line into the focused integrated terminal and runs it. */
async function typeInTerminal(line) {
  await env.page.locator('.terminal-wrapper .xterm').last().click({ timeout: UI_TIMEOUT });
  await env.page.keyboard.type(line);
  await env.page.keyboard.press('Enter');
}

/** The text of a file the terminal writes, once it exists and is complete (ends with a newline). */
async function waitForFile(file, { timeoutMs = UI_TIMEOUT, whileWaiting } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fs.existsSync(file)) {
      const text = fs.readFileSync(file, 'utf8');
      if (text.endsWith('\n')) return text;
    }
    if (Date.now() > deadline) throw new Error(`${path.basename(file)} was not written within ${timeoutMs} ms`);
    await whileWaiting?.();
    await sleep(200);
  }
}

/** Waits for the consent modal, checks what it names, screenshots it and answers. */
async function answerConsent(name, button, expected) {
  await dialog(env.page).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  const message = await dialogText(env.page);
  const detail = ((await dialog(env.page).locator('.dialog-message-detail').textContent().catch(() => '')) ?? '').trim();
  report.checks[`${name}Modal`] = { message, detail };
  for (const pattern of expected) assert.match(`${message}\n${detail}`, pattern);
  await shot(`${name}-consent-modal`);
  await clickDialogButton(env.page, button);
  await dialog(env.page).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
}

describe('OAuth Anywhere in the integrated terminal (code-server)', () => {
  before(async () => {
    const provisioned = await provision();
    Object.assign(env, runFolders('terminal'));
    report.artifactsDir = path.relative(REPO_ROOT, env.artifactsDir);
    log(`artifacts: ${env.artifactsDir}`);
    env.folder = path.join(env.work, 'workspace');
    env.outputs = path.join(env.work, 'outputs');
    env.runtimeDirectory = path.join(env.work, 'runtime', 'oauth-anywhere');
    fs.mkdirSync(env.folder, { recursive: true });
    fs.mkdirSync(env.outputs, { recursive: true });

    log('building the VSIX (npm run package)...');
    const packaged = await packageExtension(path.join(env.work, 'vsix'));
    env.idp = await startIdpProcess({
      deviceInterval: 1,
      secretLedger: env.secretLedger,
      onStderr: (chunk) => fs.appendFileSync(path.join(env.artifactsDir, 'idp.log'), chunk),
    });
    const { userinfo_endpoint: userinfo } = await env.idp.metadata();
    env.git = await startSupportProcess({
      script: 'test/support/git-server-cli.ts',
      args: ['--userinfo', userinfo],
      env: cleanEnv(undefined),
      what: 'the test git server',
      onStderr: (chunk) => fs.appendFileSync(path.join(env.artifactsDir, 'git-server.log'), chunk),
    });
    log(`git server at ${env.git.announced.origin}`);

    await installExtension(packaged.vsix, env.extensionsDir, { provisioned });
    const installed = fs.readdirSync(env.extensionsDir).find((name) => name.startsWith(`${EXTENSION_ID}-`));
    env.command = path.join(env.extensionsDir, installed, 'bin', 'oauth-anywhere');
    // Checked before code-server ever starts, so before the extension could repair the mode itself.
    report.checks.commandModeAfterInstall = (fs.statSync(env.command).mode & 0o777).toString(8);

    env.server = await startCodeServer({
      provisioned,
      extensionsDir: env.extensionsDir,
      userDataDir: env.userDataDir,
      folder: env.folder,
      settings: {
        ...DEFAULT_SETTINGS,
        'oauthAnywhere.issuer': env.idp.issuer,
        'oauthAnywhere.clientId': env.idp.clientId,
        'oauthAnywhere.gitHosts': [env.git.announced.origin],
        'terminal.integrated.defaultProfile.linux': 'bash',
        'terminal.integrated.enablePersistentSessions': false,
      },
      defaultSettings: false,
      env: { OAUTH_ANYWHERE_RUNTIME_DIR: env.runtimeDirectory },
      logFile: path.join(env.artifactsDir, 'code-server.log'),
      scratchDir: path.join(env.work, 'code-server-home'),
    });
    env.browser = await launchChromium({ artifactsDir: env.artifactsDir });
    env.page = env.browser.page;
    await openWorkbench(env.page, env.server.url, { timeoutMs: UI_TIMEOUT });
    await waitForWorkbenchReady(env.page, { timeoutMs: UI_TIMEOUT });
    await waitForActivations(env.userDataDir, 1);
    // The terminal environment is set during activation; the endpoint listens right after.
    const deadline = Date.now() + UI_TIMEOUT;
    while (!lastExtensionLogLine(env.userDataDir, /Terminal tools can ask this window for tokens/)) {
      if (Date.now() > deadline) throw new Error('the terminal endpoint never started (see the extension log)');
      await sleep(200);
    }
    await runCommand(env.page, 'Terminal: Create New Terminal', { timeoutMs: UI_TIMEOUT });
    await env.page.locator('.terminal-wrapper .xterm').last().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    env.ready = true;
  }, { timeout: 25 * 60_000 });

  after(async () => {
    if (env.browser) await env.browser.close().catch(() => {});
    if (env.server) await env.server.stop().catch(() => {});
    if (env.git) await env.git.stop().catch(() => {});
    if (env.idp) await env.idp.stop().catch(() => {});
    if (env.artifactsDir) {
      copyExtensionLogs(env.userDataDir, env.artifactsDir);
      passLedgersOn(env.secretLedger, env.userDataDir);
      report.finishedAt = new Date().toISOString();
      fs.writeFileSync(path.join(env.artifactsDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    }
    if (env.work) fs.rmSync(env.work, { recursive: true, force: true, maxRetries: 3 });
  }, { timeout: 120_000 });

  it('the VSIX installs bin/oauth-anywhere executable', () => {
    assert.ok(env.ready, 'set-up finished');
    assert.equal(report.checks.commandModeAfterInstall, '755');
  });

  it('T1. git clone in the terminal: consent, the sign-in the tool started, the clone', { timeout: STEP_TIMEOUT }, async () => {
    assert.ok(env.ready, 'set-up finished');
    const { idp, git, outputs } = env;
    await typeInTerminal(`git clone ${git.announced.repositoryUrl} demo > ${outputs}/clone.log 2>&1; echo $? > ${outputs}/clone.rc`);
    await answerConsent('git', /^Always Allow for This Tool$/, [
      /git \(credential helper\) in a terminal asks for your OAuth Anywhere token/,
      /Started by \(what these processes say of themselves, outermost first\):\s/,
      new RegExp(`\\sgit clone ${git.announced.repositoryUrl.replace(/[.]/g, '\\.')} demo\\s`),
      new RegExp(`For the git server: ${new URL(git.announced.origin).host.replace(/[.]/g, '\\.')}`),
      /Account: not signed in yet/,
      /Scopes the sign-in asks for: email offline_access openid profile/,
    ]);
    const prompt = toast(env.page, /Enter code/);
    await prompt.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const code = parseDeviceNotification(await toastMessage(prompt));
    await shot('device-code-notification');
    await idp.control.device(code.userCode, 'approve');
    const rc = await waitForFile(path.join(outputs, 'clone.rc'));
    const cloneLog = fs.readFileSync(path.join(outputs, 'clone.log'), 'utf8');
    fs.copyFileSync(path.join(outputs, 'clone.log'), path.join(env.artifactsDir, 'clone.log'));
    report.checks.clone = { exitCode: rc.trim(), log: cloneLog };
    assert.equal(rc.trim(), '0', cloneLog);
    assert.match(cloneLog, /Not signed in to OAuth Anywhere: sign in in the VS Code window/);
    assert.match(fs.readFileSync(path.join(env.folder, 'demo', 'README.md'), 'utf8'), /^# demo/);
    assert.match(lastExtensionLogLine(env.userDataDir, /Terminal: gave git/) ?? '', /gave git \(credential helper\) the token of demo at OAuth Anywhere/);
  });

  it('T2. oauth-anywhere token --json: consent (Allow Once), a token the IdP accepts', { timeout: STEP_TIMEOUT }, async () => {
    assert.ok(env.ready, 'set-up finished');
    const { outputs } = env;
    await typeInTerminal(`oauth-anywhere token --json > ${outputs}/token.json 2> ${outputs}/token.err; echo $? > ${outputs}/token.rc`);
    await answerConsent('token', /^Allow Once$/, [/oauth-anywhere token in a terminal asks for your OAuth Anywhere token/, /Started by \(what these processes say of themselves, outermost first\):\s+\S+ \(its prompt\)/, /Account: demo/, /Scopes of the token: email offline_access openid profile/]);
    const rc = await waitForFile(path.join(outputs, 'token.rc'));
    const stderr = fs.readFileSync(path.join(outputs, 'token.err'), 'utf8');
    assert.equal(rc.trim(), '0', stderr);
    assert.equal(stderr, '');
    const answer = JSON.parse(fs.readFileSync(path.join(outputs, 'token.json'), 'utf8'));
    const { access_token: token, ...rest } = answer;
    report.checks.token = { exitCode: 0, withoutToken: rest };
    assert.equal(rest.account, 'demo');
    assert.equal(rest.token_type, 'Bearer');
    assert.ok(Date.parse(rest.expires_at) > Date.now());
    const userinfo = await env.idp.userinfo(token);
    assert.equal(userinfo.status, 200);
    assert.equal(userinfo.body.sub, 'demo-user');
  });

  it('T3. status and the clone in the terminal; the endpoint is 0600 in a 0700 directory', { timeout: STEP_TIMEOUT }, async () => {
    assert.ok(env.ready, 'set-up finished');
    await typeInTerminal(`clear; oauth-anywhere status | tee ${env.outputs}/status.txt; ls demo; echo done > ${env.outputs}/t3.done`);
    await waitForFile(path.join(env.outputs, 't3.done'));
    const status = fs.readFileSync(path.join(env.outputs, 'status.txt'), 'utf8');
    fs.copyFileSync(path.join(env.outputs, 'status.txt'), path.join(env.artifactsDir, 'status.txt'));
    assert.match(status, /^OAuth Anywhere \(oauth-anywhere\)\n {2}demo: token expires/);
    assert.match(status, /always allowed: git/);
    await sleep(500); // the terminal renders what the commands printed
    await shot('terminal');
    const sockets = fs.readdirSync(env.runtimeDirectory).filter((name) => /^terminal-.*\.sock$/.test(name));
    assert.equal(sockets.length, 1);
    report.checks.runtimeDirectoryMode = (fs.statSync(env.runtimeDirectory).mode & 0o777).toString(8);
    report.checks.socketMode = (fs.statSync(path.join(env.runtimeDirectory, sockets[0])).mode & 0o777).toString(8);
    assert.equal(report.checks.runtimeDirectoryMode, '700');
    assert.equal(report.checks.socketMode, '600');
  });

  it('artifacts: no issued secret in any file', () => {
    assert.ok(env.artifactsDir, 'set-up made an artifacts folder');
    copyExtensionLogs(env.userDataDir, env.artifactsDir);
    fs.writeFileSync(path.join(env.artifactsDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    const secrets = readSecretLedger(env.secretLedger);
    report.artifactsCheck = scanArtifacts(env.artifactsDir, secrets);
    assert.ok(secrets.length > 0 || !env.ready, 'the IdP ledger recorded secrets');
    assert.deepEqual(report.artifactsCheck.leaks, []);
  });
});
