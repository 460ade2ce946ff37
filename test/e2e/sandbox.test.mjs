// The sandbox (`npm start`) as a person uses it: start it, open the URL it prints in Chromium,
// sign in with the device code at the test IdP, then Ctrl+C (SIGINT to its process group, as a
// terminal sends it) and check that nothing it started is left running.
//
//   node --test --test-reporter=spec test/e2e/sandbox.test.mjs
//
// Screenshots and the sandbox's output go to .cache/e2e/artifacts/<UTC time>-sandbox/.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';

import { launchChromium, newArtifactsDir, openWorkbench, screenshot, waitForWorkbenchReady } from './browser.mjs';
import { makeTempDir } from './codeServer.mjs';
import { killGroup, trackGroup, untrackGroup } from './processGroups.mjs';
import { REPO_ROOT, cleanEnv, provision } from './provision.mjs';
import { ACCOUNT_ENTRY, SIGN_IN_ENTRY, chooseFromAccountsMenu, closeMenus, parseDeviceNotification, toast, toastMessage, waitForAccountsMenu } from './workbench.mjs';

const UI_TIMEOUT = 60_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A timer that does not keep the test process alive once everything else is done. */
const deadlineAfter = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Pids of running processes whose command line contains `needle`. */
function pidsWith(needle) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

async function refused(url) {
  try {
    await fetch(url, { signal: AbortSignal.timeout(3000) });
    return false;
  } catch (error) {
    return /ECONNREFUSED/.test(String(error.cause?.code ?? error.cause ?? error));
  }
}

describe('npm start (the sandbox)', () => {
  const state = {};

  after(async () => {
    await state.browser?.close().catch(() => {});
    const { sandbox } = state;
    if (sandbox && sandbox.exitCode === null && sandbox.signalCode === null) {
      // A failed test: stop it the normal way first, so that it stops its own children.
      killGroup(sandbox.pid, 'SIGINT');
      await Promise.race([new Promise((resolve) => sandbox.once('exit', resolve)), deadlineAfter(20_000)]);
      killGroup(sandbox.pid, 'SIGKILL');
    }
    // Whatever it started and did not stop (it records the pids of its children).
    try {
      const pids = JSON.parse(fs.readFileSync(path.join(state.stateDir, 'pids.json'), 'utf8'));
      for (const pid of [pids.codeServer, pids.idp]) if (pid) killGroup(pid, 'SIGKILL');
    } catch {
      // none recorded
    }
    if (state.stateDir) fs.rmSync(state.stateDir, { recursive: true, force: true, maxRetries: 3 });
  });

  it('starts, signs in as demo with the device code, and stops everything on Ctrl+C', { timeout: 20 * 60_000 }, async () => {
    await provision(); // outside the timed part: the first run installs code-server
    const artifactsDir = newArtifactsDir('sandbox');
    state.stateDir = makeTempDir('sandbox');
    const idpBefore = new Set(pidsWith('idp-cli.ts'));
    const timings = {};
    const started = Date.now();

    // As a terminal runs it: npm start in its own process group, so SIGINT can go to the group.
    // (Until package.json has the start script, the script itself.)
    const hasStart = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts?.start;
    const [command, args] = hasStart
      ? ['npm', ['start', '--', '--state-dir', state.stateDir]]
      : [process.execPath, [path.join(REPO_ROOT, 'scripts', 'sandbox.mjs'), '--state-dir', state.stateDir]];
    const sandbox = spawn(command, args, {
      cwd: REPO_ROOT,
      env: cleanEnv(undefined),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    state.sandbox = sandbox;
    trackGroup(sandbox.pid);
    let output = '';
    const outputFile = path.join(artifactsDir, 'sandbox-output.txt');
    const onData = (chunk) => {
      output += chunk;
      fs.appendFileSync(outputFile, chunk);
    };
    sandbox.stdout.on('data', onData);
    sandbox.stderr.on('data', onData);
    const exited = new Promise((resolve) => sandbox.on('exit', (code, signal) => resolve({ code, signal })));

    const deadline = Date.now() + 10 * 60_000;
    while (!output.includes('Stop with Ctrl+C.')) {
      if (sandbox.exitCode !== null) assert.fail(`the sandbox exited early:\n${output}`);
      if (Date.now() > deadline) assert.fail(`the sandbox did not get ready:\n${output}`);
      await sleep(200);
    }
    timings.startToReadyMs = Date.now() - started;
    const url = /VS Code \(code-server\):\s+(\S+)/.exec(output)?.[1];
    const issuer = /Test identity provider:\s+(\S+)/.exec(output)?.[1];
    assert.ok(url && issuer, `the sandbox printed its URLs:\n${output}`);
    assert.match(output, /provisioning/i, 'it says what it does while provisioning');
    assert.match(output, /Open the Accounts menu/, 'it says what to do');
    assert.match(output, /user demo/, 'it names the demo user');

    state.browser = await launchChromium({ artifactsDir });
    const { page, context } = state.browser;
    await openWorkbench(page, url, { timeoutMs: UI_TIMEOUT });
    await waitForWorkbenchReady(page, { timeoutMs: UI_TIMEOUT });
    await waitForAccountsMenu(page, (items) => items.some((i) => SIGN_IN_ENTRY.test(i)), { what: 'the sign-in entry', timeoutMs: 90_000 });
    await screenshot(page, 'sandbox-accounts-menu');
    const clickedAt = Date.now();
    await chooseFromAccountsMenu(page, SIGN_IN_ENTRY);
    const prompt = toast(page, /Enter code/);
    await prompt.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const code = parseDeviceNotification(await toastMessage(prompt));
    await screenshot(page, 'sandbox-device-code');
    assert.ok(code.verificationUri.startsWith(issuer), 'the code is for the sandbox IdP');

    const idpPage = await context.newPage();
    await idpPage.goto(code.verificationUri, { timeout: UI_TIMEOUT });
    await idpPage.locator('input[name="user_code"]').pressSequentially(code.userCode, { delay: 30 });
    await idpPage.locator('#continue').click();
    await idpPage.locator('#confirm').click({ timeout: UI_TIMEOUT });
    await idpPage.locator('#approve').waitFor({ timeout: UI_TIMEOUT });
    await screenshot(idpPage, 'sandbox-idp-approve');
    await idpPage.locator('#approve').click();
    await idpPage.locator('#device-success').waitFor({ timeout: UI_TIMEOUT });
    await idpPage.close();
    await page.bringToFront();
    await waitForAccountsMenu(page, (items) => items.some((i) => ACCOUNT_ENTRY.test(i)), { what: 'the demo account' });
    timings.signInToAccountMs = Date.now() - clickedAt;
    await screenshot(page, 'sandbox-signed-in');
    await closeMenus(page);
    await state.browser.close();
    state.browser = undefined;

    // Ctrl+C, as a terminal delivers it: SIGINT to the whole foreground process group.
    const stopAt = Date.now();
    process.kill(-sandbox.pid, 'SIGINT');
    const exit = await Promise.race([exited, deadlineAfter(30_000).then(() => 'timeout')]);
    timings.ctrlCToExitMs = Date.now() - stopAt;
    untrackGroup(sandbox.pid);
    assert.notEqual(exit, 'timeout', `the sandbox did not exit within 30 s of Ctrl+C:\n${output.slice(-2000)}`);
    assert.match(output, /stopped\./, 'it says it stopped');
    await sleep(500);
    assert.deepEqual(pidsWith(state.stateDir), [], 'no process of the sandbox (code-server, its extension host) is left');
    assert.deepEqual(pidsWith('idp-cli.ts').filter((pid) => !idpBefore.has(pid)), [], 'the test IdP is gone');
    assert.ok(await refused(url), 'code-server no longer listens');
    assert.ok(await refused(issuer), 'the IdP no longer listens');
    let groupAlive = true;
    try {
      process.kill(-sandbox.pid, 0);
    } catch {
      groupAlive = false;
    }
    assert.equal(groupAlive, false, 'the npm start process group is empty');
    fs.writeFileSync(path.join(artifactsDir, 'timings.json'), `${JSON.stringify({ exit, ...timings }, null, 2)}\n`);
    process.stderr.write(`[e2e sandbox] ${JSON.stringify(timings)}\n`);
  });
});
