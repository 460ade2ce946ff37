// End-to-end: an identity provider whose user_code and error_description carry a `command:` link,
// in code-server + Chromium against the test IdP. VS Code renders `[label](command:…)` in a
// notification as a link that runs the command; the rendered notifications may hold no link but
// the extension's own (read from the anchors in the DOM), and the code is still shown, as text.
// Then two device sign-ins at once (two providers): each notification's "Copy code" copies its own.
//
//   node --test --test-reporter=spec test/e2e/hostileIdp.test.mjs
//
// Artifacts: .cache/e2e/artifacts/<UTC time>-hostile-idp/ (screenshots, report.json, extension logs).

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { runCommand, screenshot } from './browser.mjs';
import { DEFAULT_SETTINGS } from './codeServer.mjs';
import { REPO_ROOT } from './provision.mjs';
import { artifactLeaks, lastExtensionLogLine, readSecretLedger } from './runRecords.mjs';
import { SIGN_IN_ENTRY, chooseFromAccountsMenu, clickDialogButton, dialog, parseDeviceNotification, toast, toastMessage, visibleToasts } from './workbench.mjs';
import { startWorkbench, stopWorkbench } from './workbenchSession.mjs';

const UI_TIMEOUT = 60_000;
/** A command that exists in every VS Code: were the link live, a click would open the Settings editor. */
const IDP_COMMAND = 'command:workbench.action.openSettings';
const HOSTILE_CODE = `WDJB-[Settings](${IDP_COMMAND})`;
/** The links the device code notification itself carries: "Copy code and open browser" and "Show QR code" (src/vscode/promptTexts.ts). */
const OWN_PROMPT_LINK = /^command:oauthAnywhere\.(copyCodeAndOpenBrowser|showQrCode)\?/;
const HOSTILE_DESCRIPTION = `Denied by policy. [Review your settings](${IDP_COMMAND}?%5B%22oauthAnywhere%22%5D) <b>now</b>`;
const log = (message) => process.stderr.write(`[e2e hostile-idp] ${message}\n`);

const env = {};
const report = { tier: 'e2e-hostile-idp', startedAt: new Date().toISOString(), checks: {}, screenshots: [] };

async function shot(name) {
  const file = await screenshot(env.page, `hostile-${name}`);
  report.screenshots.push(path.relative(REPO_ROOT, file));
}

/** The href of every link rendered in a notification's text (its buttons and toolbar are no links). */
async function notificationLinks(notification) {
  return notification.locator('.notification-list-item-message a').evaluateAll((anchors) => anchors.map((anchor) => anchor.getAttribute('href') ?? ''));
}

/** Waits for the notification whose text matches, and records its text, every rendered link and a screenshot under `name`. */
async function readNotification(pattern, name) {
  const notification = toast(env.page, pattern);
  await notification.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  const text = await toastMessage(notification);
  const links = await notificationLinks(notification);
  report.checks[name] = { text, links };
  await shot(name);
  return { notification, text, links };
}

describe('an identity provider whose texts carry command links (code-server + Chromium)', () => {
  before(async () => {
    await startWorkbench(env, {
      label: 'hostile-idp',
      idp: { deviceInterval: 1 },
      settings: (idp) => ({
        ...DEFAULT_SETTINGS,
        'oauthAnywhere.issuer': idp.issuer,
        'oauthAnywhere.clientId': idp.clientId,
        'oauthAnywhere.providers': [{ id: 'second', label: 'Second IdP', issuer: idp.issuer, clientId: idp.clientId }],
      }),
      report,
      log,
    });
  }, { timeout: 25 * 60_000 });

  after(() => stopWorkbench(env, report), { timeout: 120_000 });

  it('the user_code and the error_description are shown as text: the only links are the extension\'s own', { timeout: 4 * 60_000 }, async () => {
    assert.ok(env.ready, 'set-up');
    const { page, idp } = env;
    try {
      await idp.control.fault('device_authorization', { kind: 'edit_answer', set: { user_code: HOSTILE_CODE } });
      await chooseFromAccountsMenu(page, SIGN_IN_ENTRY);

      const { text: promptText, links: promptLinks } = await readNotification(/Enter code/, 'device-code-as-text');
      assert.ok(promptText.includes('WDJB-[Settings]\u200b(command:workbench.action.openSettings)'), `the code is shown, as text: ${promptText}`);
      assert.match(promptText, /characters that sign-in codes do not have/, 'with a warning');
      assert.ok(promptLinks.some((href) => href.startsWith('command:oauthAnywhere.copyCodeAndOpenBrowser?')), 'the extension\'s own link is rendered');
      assert.deepEqual(promptLinks.filter((href) => !OWN_PROMPT_LINK.test(href)), [], 'no other link, not even to another of the extension\'s commands');
      assert.match(lastExtensionLogLine(env.userDataDir, /user code with characters codes do not have/) ?? '', /\[warning\]/);

      // The next poll is answered with a denial whose description carries a command link.
      await idp.control.fault('token', { kind: 'status', status: 400, body: JSON.stringify({ error: 'access_denied', error_description: HOSTILE_DESCRIPTION }) });
      const { notification: failure, text: failureText, links: failureLinks } = await readNotification(/OAuth Anywhere sign-in failed/, 'error-description-as-text');
      assert.match(failureText, /The sign-in was declined\. .*access_denied.*Denied by policy\. \[Review your settings\]\u200b\(command:workbench\.action\.openSettings/);
      assert.ok(failureText.includes('<b>now</b>'), 'markup is text too');
      assert.deepEqual(failureLinks, [], 'no link at all: a failure notification acts through its buttons');
      for (const label of ['Troubleshoot', 'Show Log']) assert.ok(await failure.locator('.monaco-button', { hasText: label }).isVisible(), `offers ${label}`);
      assert.equal(await page.locator('.tab', { hasText: /^Settings$/ }).count(), 0, 'the identity provider\'s command never ran');
    } catch (error) {
      report.checks.toastsAtFailure = await visibleToasts(env.page).catch(() => []);
      await shot('failure').catch(() => {});
      throw error;
    }
  });

  it('two device sign-ins at once (two providers): each notification\'s "Copy code" copies its own code', { timeout: 4 * 60_000 }, async () => {
    assert.ok(env.ready, 'set-up');
    const { page } = env;
    await runCommand(page, 'Notifications: Clear All Notifications', { timeoutMs: 20_000 }).catch(() => {});
    try {
      await chooseFromAccountsMenu(page, SIGN_IN_ENTRY);
      await toast(page, /Enter code/).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      await chooseFromAccountsMenu(page, /^Sign in with Second IdP/);
      // VS Code may fold an older toast away; the notification center lists both.
      await runCommand(page, 'Notifications: Show Notifications', { timeoutMs: 20_000 });
      const prompts = page.locator('.notifications-center .notification-list-item').filter({ has: page.locator('.notification-list-item-message', { hasText: /Enter code/ }) });
      for (let turn = 0; turn < 120 && (await prompts.count()) < 2; turn++) await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(await prompts.count(), 2, 'two code notifications at once');
      const codes = [];
      for (const index of [0, 1]) codes.push(parseDeviceNotification(((await prompts.nth(index).locator('.notification-list-item-message').textContent()) ?? '').trim()).userCode);
      report.checks.twoCodes = codes.length;
      assert.notEqual(codes[0], codes[1]);
      await shot('two-device-codes');

      for (const index of [0, 1]) {
        await prompts.nth(index).locator('a[href^="command:oauthAnywhere.copyCodeAndOpenBrowser"]').click();
        // code-server asks before it opens the verification page; the clipboard is already written.
        await dialog(page).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
        await clickDialogButton(page, /^Cancel$/);
        const clipboard = await page.evaluate(() => navigator.clipboard.readText());
        assert.equal(clipboard, codes[index], `notification ${index + 1}'s link copied its own code`);
      }
      for (const index of [1, 0]) await prompts.nth(index).locator('.monaco-button', { hasText: 'Cancel' }).click();
      await prompts.first().waitFor({ state: 'detached', timeout: UI_TIMEOUT });
    } catch (error) {
      report.checks.toastsAtFailure = await visibleToasts(env.page).catch(() => []);
      await shot('failure-two-sign-ins').catch(() => {});
      throw error;
    }
  });

  it('artifacts: no issued secret in any file', () => {
    assert.ok(env.artifactsDir, 'set-up made an artifacts folder');
    const secrets = readSecretLedger(env.secretLedger);
    const { leaks, filesScanned } = artifactLeaks(env.artifactsDir, secrets);
    report.artifactsCheck = { secretsIssued: secrets.length, filesScanned, leaks };
    assert.deepEqual(leaks, []);
  });
});
