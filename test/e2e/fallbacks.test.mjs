// End-to-end: sign-in that never strands a user, in code-server + Chromium against the test IdP.
//
//   node --test --test-reporter=spec test/e2e/fallbacks.test.mjs
//
// One code-server, one browser profile, one IdP; the steps run in order and build on each other:
//   F1 "OAuth Anywhere: Configure" refuses an issuer without discovery, then saves a working one,
//      and "Sign in with OAuth Anywhere" appears in the Accounts menu without any consumer.
//   F2 flow "loopback" with browserCheckSeconds 3: the browser never reaches 127.0.0.1:PORT/start
//      (the test aborts that navigation, as a browser on another machine would never get there), so
//      the notification switches to the device code by itself; "Show QR code" opens the webview,
//      whose QR code is decoded from a screenshot and followed to approve the sign-in.
//   F3 an IdP without device endpoint (oauthAnywhere.endpoints without one) in this remote, whose
//      port forward moves the path: the paste step. The redirect to 127.0.0.1 is aborted and its
//      address pasted (first another sign-in's, refused with the reason, then the right one).
//   F4 a denied sign-in: the error says what happened and offers Troubleshoot and Show Log;
//      Troubleshoot opens the report, copied as a person would and checked: every section, and no
//      secret the IdP ever issued.
//   F5 the walkthrough (contributes.walkthroughs) opens with its four steps and their buttons.
// Artifacts: .cache/e2e/artifacts/<UTC time>-fallbacks/ (screenshots NN-F<k>-*.png, report.json,
// the troubleshooting report, extension logs). The last test scans them for every issued secret.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { SELECTORS, launchChromium, runCommand, screenshot, waitForWorkbenchReady } from './browser.mjs';
import { DEFAULT_SETTINGS } from './codeServer.mjs';
import { REPO_ROOT } from './provision.mjs';
import {
  ACCOUNT_ENTRY,
  SIGN_IN_ENTRY,
  activations,
  chooseFromAccountsMenu,
  clickDialogButton,
  closeMenus,
  dialog,
  dialogText,
  parseDeviceNotification,
  toast,
  toastMessage,
  visibleToasts,
  waitForAccountsMenu,
  waitForActivations,
} from './workbench.mjs';
import { copyExtensionLogs, diffCounts, lastExtensionLogLine, readSecretLedger, scanArtifacts } from './runRecords.mjs';
import { startWorkbench, stopWorkbench } from './workbenchSession.mjs';

const jsQR = createRequire(import.meta.url)('jsqr');

const UI_TIMEOUT = 60_000;
const STEP_TIMEOUT = 4 * 60_000;
const BROWSER_CHECK_SECONDS = 3;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message) => process.stderr.write(`[e2e fallbacks] ${message}\n`);

const env = {};

const issuedSecrets = () => readSecretLedger(env.secretLedger);
const lastLogLine = (pattern) => lastExtensionLogLine(env.userDataDir, pattern);
function collectExtensionLogs() {
  if (env.userDataDir) copyExtensionLogs(env.userDataDir, env.artifactsDir);
}

const results = new Map();
const report = { tier: 'e2e-fallbacks', startedAt: new Date().toISOString(), steps: [], artifactsCheck: undefined };

/** One step as one `it`: skipped when a step it needs did not pass; screenshots named after it. */
function step(id, title, { needs = [] }, body) {
  it(`${id}. ${title}`, { timeout: STEP_TIMEOUT }, async (t) => {
    const entry = { step: id, title, status: 'running', checks: {}, screenshots: [] };
    report.steps.push(entry);
    const missing = [...(env.ready ? [] : ['set-up']), ...needs.filter((n) => results.get(n) !== 'pass')];
    if (missing.length) {
      entry.status = 'skip';
      results.set(id, 'skip');
      t.skip(`needs ${missing.join(', ')}`);
      return;
    }
    const started = Date.now();
    const s = {
      check: (name, value) => (entry.checks[name] = value),
      shot: async (name, page = env.page) => {
        const file = await screenshot(page, `${id}-${name}`);
        entry.screenshots.push(path.relative(REPO_ROOT, file));
        return file;
      },
    };
    try {
      await body(s);
      entry.status = 'pass';
      results.set(id, 'pass');
    } catch (error) {
      entry.status = 'fail';
      entry.error = String(error?.stack ?? error).split('\n').slice(0, 8).join('\n');
      results.set(id, 'fail');
      await s.shot('failure').catch(() => {});
      entry.toastsAtFailure = await visibleToasts(env.page).catch(() => []);
      throw error;
    } finally {
      entry.wallTimeMs = Date.now() - started;
      log(`${id} ${entry.status} in ${(entry.wallTimeMs / 1000).toFixed(1)} s`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

function settingsFile() {
  return path.join(env.userDataDir, 'User', 'settings.json');
}

function readSettingsFile() {
  return JSON.parse(fs.readFileSync(settingsFile(), 'utf8'));
}

/** code-server does not pick up a settings.json written behind its back: write it, then reload. */
async function useSettings(settings) {
  fs.writeFileSync(settingsFile(), `${JSON.stringify({ ...DEFAULT_SETTINGS, ...settings }, null, 2)}\n`);
  const before = activations(env.userDataDir).length;
  await env.page.reload({ waitUntil: 'domcontentloaded', timeout: UI_TIMEOUT });
  await env.page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await waitForWorkbenchReady(env.page, { timeoutMs: UI_TIMEOUT });
  await waitForActivations(env.userDataDir, before + 1);
}

function configured(extra = {}) {
  return { 'oauthAnywhere.issuer': env.idp.issuer, 'oauthAnywhere.clientId': env.idp.clientId, ...extra };
}

async function idpCounts() {
  return env.idp.control.counts();
}

async function startSignIn() {
  await chooseFromAccountsMenu(env.page, SIGN_IN_ENTRY);
}

async function waitForAccount() {
  const items = await waitForAccountsMenu(env.page, (entries) => entries.some((i) => ACCOUNT_ENTRY.test(i)), { what: 'the signed-in account' });
  return items;
}

/** A step that failed may have left a session: the next one starts signed out. */
async function ensureSignedOut() {
  const items = await waitForAccountsMenu(env.page, (entries) => entries.some((i) => SIGN_IN_ENTRY.test(i) || ACCOUNT_ENTRY.test(i)), { what: 'the sign-in entry or an account' });
  await closeMenus(env.page);
  if (items.some((i) => ACCOUNT_ENTRY.test(i))) await signOut();
}

async function signOut() {
  await closeMenus(env.page);
  await runCommand(env.page, 'OAuth Anywhere: Sign Out', { timeoutMs: UI_TIMEOUT });
  await waitForAccountsMenu(env.page, (entries) => !entries.some((i) => ACCOUNT_ENTRY.test(i)), { what: 'no account' });
  await closeMenus(env.page);
}

/**
 * Runs a palette command that opens an input box of its own (runCommand waits for the palette to
 * close, which never happens then): resolves once the box titled `title` shows.
 */
async function runCommandWithInput(command, title) {
  const { page } = env;
  const row = page.locator(SELECTORS.quickInputRows).filter({ hasText: command }).first();
  const deadline = Date.now() + UI_TIMEOUT;
  for (;;) {
    await page.locator('.part.editor').first().click({ timeout: 5000 }).catch(() => {});
    await page.keyboard.press('F1');
    await quickInputBox().fill(`>${command}`);
    if (await row.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false)) break;
    if (Date.now() > deadline) throw new Error(`command "${command}" not found in the palette`);
    await page.keyboard.press('Escape');
  }
  await row.click();
  await page.locator(SELECTORS.quickInput, { hasText: title }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
}

const quickInput = () => env.page.locator(SELECTORS.quickInput);
const quickInputBox = () => env.page.locator(SELECTORS.quickInputBox);

/** Types into the open input box (replacing its value) and presses Enter. */
async function answerInputBox(value) {
  const input = quickInputBox();
  await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await input.fill(value);
  await input.press('Enter');
}

/** The text of the open input box's title, prompt or validation message. */
async function quickInputText() {
  return ((await quickInput().textContent().catch(() => '')) ?? '').replace(/\s+/g, ' ').trim();
}

/** The webview's own document: VS Code nests it in two iframes. */
function webviewDocument() {
  return env.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

/** Reads a QR code from a PNG screenshot: Chromium decodes the image, jsQR reads it as a phone would. */
async function decodeQr(png) {
  const scratch = await env.context.newPage();
  try {
    const { width, height, pixels } = await scratch.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d');
      context.drawImage(image, 0, 0);
      return { width: image.width, height: image.height, pixels: Array.from(context.getImageData(0, 0, image.width, image.height).data) };
    }, png.toString('base64'));
    return jsQR(Uint8ClampedArray.from(pixels), width, height)?.data;
  } finally {
    await scratch.close();
  }
}

// ---------------------------------------------------------------------------------------------

describe('OAuth Anywhere fallbacks in code-server: detection, paste, troubleshooting, Configure, QR code', () => {
  before(async () => {
    // Nothing configured: F1 configures it through the product's own command.
    await startWorkbench(env, { label: 'fallbacks', idp: { deviceInterval: 1 }, report, log });
    env.metadata = await env.idp.metadata();
  }, { timeout: 25 * 60_000 });

  after(() => stopWorkbench(env, report), { timeout: 120_000 });

  step('F1', 'Configure refuses an issuer without discovery, saves a working one; the Accounts menu offers sign-in', {}, async (s) => {
    const { page, idp } = env;
    const noDiscovery = `${idp.issuer}/no-such-realm`;
    await runCommandWithInput('OAuth Anywhere: Configure', '(1/2): issuer');
    await s.shot('issuer-input');
    await answerInputBox(noDiscovery);
    await page.locator(SELECTORS.quickInput, { hasText: 'client id' }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await s.shot('client-id-input');
    await answerInputBox(idp.clientId);
    const refused = toast(page, /Not saved/);
    await refused.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const message = await toastMessage(refused);
    s.check('refusal', message);
    await s.shot('refused-no-discovery');
    assert.match(message, /Not saved: .*no-such-realm.* has no discovery document \(HTTP 404\)/);
    assert.equal(readSettingsFile()['oauthAnywhere.issuer'], undefined, 'nothing was saved');

    // "Try Again" brings back what was typed; the issuer is corrected.
    await refused.locator('.monaco-button', { hasText: 'Try Again' }).click();
    const input = quickInputBox();
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    assert.equal(await input.inputValue(), noDiscovery, 'the typed issuer is offered again');
    await answerInputBox(idp.issuer);
    await page.locator(SELECTORS.quickInput, { hasText: 'client id' }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    assert.equal(await input.inputValue(), idp.clientId);
    await input.press('Enter');
    const saved = toast(page, /OAuth Anywhere is set up for/);
    await saved.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await s.shot('saved');
    const settings = readSettingsFile();
    assert.equal(settings['oauthAnywhere.issuer'], idp.issuer);
    assert.equal(settings['oauthAnywhere.clientId'], idp.clientId);
    assert.match(lastLogLine(/Configure: saved issuer/) ?? '', /0 gap\(s\)/, 'the test IdP lacks nothing');

    const items = await waitForAccountsMenu(page, (entries) => entries.some((i) => SIGN_IN_ENTRY.test(i)), { what: '"Sign in with OAuth Anywhere"' });
    s.check('accountsMenu', items);
    await s.shot('accounts-menu-offers-sign-in');
    await closeMenus(page);
  });

  step('F2', '/start never reached: the sign-in switches to the device code by itself; the QR code signs in', { needs: ['F1'] }, async (s) => {
    const { context, idp } = env;
    await useSettings(configured({ 'oauthAnywhere.flow': 'loopback', 'oauthAnywhere.browserCheckSeconds': BROWSER_CHECK_SECONDS }));
    const { page } = env;
    // The browser is "elsewhere": it never gets to this machine's /start, directly or through code-server's proxy.
    const blocked = [];
    const startAddress = /^http:\/\/127\.0\.0\.1:\d+\/(proxy\/\d+\/)?start$/;
    await context.route(startAddress, (route) => {
      blocked.push(route.request().url());
      return route.abort('connectionrefused');
    });
    const before = await idpCounts();
    const startedAt = Date.now();
    try {
      await startSignIn();
      const waiting = toast(page, /Waiting for you to sign in in your browser/);
      await waiting.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      const waitingText = await toastMessage(waiting);
      s.check('waitingNotification', waitingText);
      assert.match(waitingText, new RegExp(`within ${BROWSER_CHECK_SECONDS} s, this switches to a code by itself`));
      await s.shot('waiting-for-browser');

      const switched = toast(page, /Enter code/);
      await switched.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      s.check('switchedAfterMs', Date.now() - startedAt);
      const message = await toastMessage(switched);
      s.check('deviceNotification', message);
      assert.match(message, new RegExp(`did not open VS Code's sign-in page within ${BROWSER_CHECK_SECONDS} s, so it is probably on another device: signing in with a code instead`));
      const code = parseDeviceNotification(message);
      await s.shot('switched-to-device-code');
      assert.ok(await waiting.isHidden(), 'the browser notification made way: one notification, one Cancel');
      assert.ok(blocked.length >= 1, `the browser was sent to /start (${JSON.stringify(blocked)})`);
      assert.match(lastLogLine(/did not reach \/start/) ?? '', new RegExp(`within ${BROWSER_CHECK_SECONDS} s`));

      // The QR code: a webview with the code in large type; its QR code leads to the IdP with the code filled in.
      await switched.locator(`a[href^="command:oauthAnywhere.showQrCode"]`).click();
      const doc = webviewDocument();
      await doc.locator('#user-code').waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      assert.equal((await doc.locator('#user-code').textContent())?.trim(), code.userCode);
      const csp = await doc.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
      s.check('webviewCsp', csp);
      assert.match(csp ?? '', /^default-src 'none'; style-src 'nonce-[^']+'; base-uri 'none'; form-action 'none'$/);
      assert.equal(await doc.locator('script').count(), 0, 'no script in the webview');
      await s.shot('qr-code-webview');
      const qrTarget = await decodeQr(await doc.locator('.qr').screenshot());
      s.check('qrDecoded', qrTarget?.replace(code.userCode, '<user code>'));
      assert.ok(qrTarget?.startsWith(idp.issuer), `the QR code reads as an address at the IdP: ${qrTarget}`);
      assert.ok(qrTarget.includes(code.userCode), 'with the code in it (verification_uri_complete)');

      const phone = await context.newPage();
      await phone.goto(qrTarget, { waitUntil: 'domcontentloaded', timeout: UI_TIMEOUT });
      await phone.locator('#confirm').waitFor({ timeout: UI_TIMEOUT });
      assert.equal((await phone.locator('#user-code').textContent())?.trim(), code.userCode, 'the scanned address carries the code');
      await phone.locator('#confirm').click();
      await phone.locator('#approve').waitFor({ timeout: UI_TIMEOUT });
      await phone.locator('#approve').click();
      await phone.locator('#device-success').waitFor({ timeout: UI_TIMEOUT });
      await s.shot('idp-approved-from-qr', phone);
      await phone.close();

      await page.bringToFront();
      await toast(page, /Enter code/).waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
      await doc.locator('#user-code').waitFor({ state: 'detached', timeout: UI_TIMEOUT });
      s.check('accountsMenu', await waitForAccount());
      await s.shot('signed-in');
      await closeMenus(page);
      const diff = diffCounts(before, await idpCounts());
      s.check('idpRequests', diff);
      assert.equal(diff.device_authorization, 1, 'one device authorization');
      assert.ok(!diff.authorization, 'the browser never reached the IdP through /start');
      await signOut();
    } finally {
      await context.unroute(startAddress);
    }
  });

  step('F3', 'IdP without device endpoint, port forward impossible: the paste step', { needs: ['F1'] }, async (s) => {
    const { context, metadata, idp } = env;
    const endpoints = Object.fromEntries(['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'revocation_endpoint'].map((name) => [name, metadata[name]]));
    await useSettings(configured({ 'oauthAnywhere.endpoints': endpoints }));
    const { page } = env;
    // The tab code-server opens shows where the sign-in starts; the person takes it to a browser on
    // another machine, which reaches the IdP but not this machine's 127.0.0.1.
    const authorize = new RegExp(`^${metadata.authorization_endpoint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\?`);
    const opened = [];
    await context.route(authorize, (route) => {
      opened.push(route.request().url());
      return route.fulfill({ status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>Sign in</title><p>Taken to a browser on another machine.</p>' });
    });
    const before = await idpCounts();
    let elsewhere;
    try {
      const popup = context.waitForEvent('page', { timeout: UI_TIMEOUT });
      popup.catch(() => {});
      await startSignIn();
      await dialog(page).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      assert.match(await dialogText(page), /open the external website/);
      await clickDialogButton(page, /^Open$/);
      await (await popup).close();
      assert.equal(opened.length, 1, 'the IdP was opened once, directly (no /start: the forward cannot be checked)');

      // The browser elsewhere: every 127.0.0.1 address goes to a proxy that does not exist.
      elsewhere = await launchChromium({ artifactsDir: env.artifactsDir, args: ['--proxy-server=http://127.0.0.1:9', '--proxy-bypass-list=<-loopback>;127.0.0.2'] });
      const redirects = [];
      elsewhere.page.on('request', (request) => {
        if (/^http:\/\/127\.0\.0\.1:\d+\/callback\?/.test(request.url())) redirects.push(request.url());
      });
      await elsewhere.page.goto(opened[0], { waitUntil: 'domcontentloaded', timeout: UI_TIMEOUT });
      await elsewhere.page.locator('#approve').waitFor({ timeout: UI_TIMEOUT });
      assert.ok(elsewhere.page.url().startsWith(idp.issuer), 'the browser elsewhere reaches the IdP');
      await elsewhere.page.locator('#approve').click();
      const deadline = Date.now() + UI_TIMEOUT;
      while (!redirects.length && Date.now() < deadline) await sleep(100);
      assert.equal(redirects.length, 1, 'the IdP redirected the browser to the callback, which it cannot reach');
      await sleep(500);
      await s.shot('browser-elsewhere-cannot-reach-callback', elsewhere.page);
      await elsewhere.close();
      elsewhere = undefined;
      await page.bringToFront();

      await page.locator(SELECTORS.quickInput, { hasText: 'Paste that whole address here' }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      const prompt = await quickInputText();
      s.check('pastePrompt', prompt);
      assert.match(prompt, /cannot forward this sign-in's redirect/);
      assert.match(lastLogLine(/Sign-in flow:/) ?? '', /Sign-in flow: loopback\. .*no device grant/);
      await s.shot('paste-box');
      assert.equal(diffCounts(before, await idpCounts())['token:authorization_code'] ?? 0, 0, 'nothing redeemed before the paste');

      // Another sign-in's address (wrong state) is refused with the reason, and the box stays.
      const foreign = new URL(redirects[0]);
      foreign.searchParams.set('state', 'state-of-another-sign-in');
      await answerInputBox(foreign.href);
      await page.locator(SELECTORS.quickInput, { hasText: 'belongs to another sign-in' }).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
      await s.shot('paste-refused-wrong-state');
      await answerInputBox(redirects[0]);
      await quickInput().waitFor({ state: 'hidden', timeout: UI_TIMEOUT });
      s.check('accountsMenu', await waitForAccount());
      await s.shot('signed-in-after-paste');
      await closeMenus(page);
      const diff = diffCounts(before, await idpCounts());
      s.check('idpRequests', diff);
      assert.equal(diff.authorization, 1);
      assert.equal(diff['token:authorization_code'], 1, 'the pasted code was redeemed once');
      assert.ok(!diff.device_authorization, 'no device grant: the IdP "has none"');
      assert.match(lastLogLine(/pasted authorization response/) ?? '', /exchanging the authorization code/);
      await signOut();
    } finally {
      await elsewhere?.close();
      await context.unroute(authorize);
    }
  });

  step('F4', 'a denied sign-in offers Troubleshoot; the report is complete and holds no secret', { needs: ['F1'] }, async (s) => {
    const { idp } = env;
    await useSettings(configured());
    const { page } = env;
    await ensureSignedOut();
    await startSignIn();
    const prompt = toast(page, /Enter code/);
    await prompt.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const code = parseDeviceNotification(await toastMessage(prompt));
    await idp.control.device(code.userCode, 'deny');
    const failure = toast(page, /OAuth Anywhere sign-in failed/);
    await failure.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const message = await toastMessage(failure);
    s.check('errorNotification', message);
    assert.match(message, /The sign-in was declined\. .*denied.* Sign in again and approve it/);
    for (const label of ['Troubleshoot', 'Show Log']) assert.ok(await failure.locator('.monaco-button', { hasText: label }).isVisible(), `offers ${label}`);
    await s.shot('denied-with-actions');

    await failure.locator('.monaco-button', { hasText: 'Troubleshoot' }).click();
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await page.locator('.tab', { hasText: 'Untitled' }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await editor.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await s.shot('troubleshooting-report');
    // Copied out of the editor as a person would, to paste into a ticket.
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Control+C');
    await sleep(300);
    const text = await page.evaluate(() => navigator.clipboard.readText());
    fs.writeFileSync(path.join(env.artifactsDir, 'troubleshooting-report.md'), text);
    s.check('reportLength', text.length);

    const section = (title) => {
      const match = new RegExp(`^## \\S+ ${title}\\n([\\s\\S]*?)(?=\\n## |(?![\\s\\S]))`, 'm').exec(text);
      assert.ok(match, `the report has the section "${title}"`);
      return match[1];
    };
    assert.match(text, /^# OAuth Anywhere: sign-in troubleshooting report/);
    assert.match(section('VS Code and the provider'), /OAuth Anywhere \d+\.\d+\.\d+[\s\S]*authentication provider id "oauth-anywhere"/);
    const where = section('Where the extension runs');
    // Text the report did not write itself is quoted as inline code.
    assert.ok(where.includes(`remote: \`${new URL(env.server.url).host}\``), where);
    assert.match(where, /UI: web/);
    assert.match(where, /extension host side: workspace/);
    assert.match(section('Settings'), new RegExp(`issuer: \`${idp.issuer}\`[\\s\\S]*client id: \`${idp.clientId}\``));
    const discovery = section('Discovery');
    assert.match(discovery, /matches the setting/);
    assert.match(discovery, /answered in \d+ ms/);
    assert.match(discovery, /TLS: plain http/);
    assert.match(section('What the identity provider offers'), /device authorization endpoint: `http:\/\/127\.0\.0\.2:\d+\/device\/auth`[\s\S]*grant types: .*`refresh_token`/);
    assert.match(section('Flow'), /would use: device, then loopback[\s\S]*why: `remote/);
    assert.match(section('Clock'), /clock minus this machine's: -?\d+ s/);
    assert.match(section('Loopback callback server'), /listening on 127\.0\.0\.1:\d+ works/);
    assert.match(section('Secret storage'), /write, read and delete round trip works/);
    assert.match(section('Recent sign-in errors'), /denied/);

    const secrets = issuedSecrets();
    s.check('secretsIssuedSoFar', secrets.length);
    assert.ok(secrets.some((secret) => secret.kind === 'access_token') && secrets.some((secret) => secret.kind === 'refresh_token'), 'earlier steps signed in: there are tokens to leak');
    const leaked = secrets.filter((secret) => secret.value.length >= 8 && text.includes(secret.value)).map((secret) => secret.kind);
    assert.deepEqual(leaked, [], 'no secret the IdP issued is in the report');
    assert.ok(!/eyJ[\w-]+\.[\w-]+\./.test(text), 'nothing JWT-shaped');
    assert.ok(!/[?&](code|token)=[^&\s[]/.test(text), 'no code or token parameter');
  });

  step('F5', 'the walkthrough for first-time users: its steps, Markdown and command buttons', {}, async (s) => {
    const { page } = env;
    await runCommandWithInput('Welcome: Open Walkthrough...', 'Get started with OAuth Anywhere');
    await page.locator(SELECTORS.quickInputRows).filter({ hasText: 'Get started with OAuth Anywhere' }).first().click();
    const walkthrough = page.locator('.gettingStartedContainer');
    await walkthrough.locator('.getting-started-step', { hasText: 'Register a client at your identity provider' }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    for (const title of ['Enter the issuer and client id', 'Sign in', 'When something goes wrong']) {
      assert.ok(await walkthrough.locator('.getting-started-step', { hasText: title }).first().isVisible(), `step "${title}"`);
    }
    await walkthrough.locator('.getting-started-step', { hasText: 'Enter the issuer and client id' }).first().click();
    await walkthrough.locator('.monaco-button', { hasText: 'Configure' }).first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await s.shot('walkthrough-configure-step');
  });

  it('artifacts: no issued secret in any file', async () => {
    assert.ok(env.artifactsDir, 'set-up made an artifacts folder');
    collectExtensionLogs();
    const secrets = issuedSecrets();
    report.artifactsCheck = scanArtifacts(env.artifactsDir, secrets);
    assert.ok(secrets.length > 0 || !env.ready, 'the IdP ledger recorded secrets');
    assert.deepEqual(report.artifactsCheck.leaks, []);
  });
});
