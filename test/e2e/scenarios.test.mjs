// End-to-end scenarios: the packaged VSIX in real VS Code (code-server 4.139.1) driven in real
// Chromium, against the real test identity provider (oidc-provider, test/support/idp-cli.ts).
//
//   node --test --test-reporter=spec test/e2e/scenarios.test.mjs      (npm run test:e2e)
//
// The scenarios run in order on one code-server, one browser profile and one IdP, because they
// build on each other: 1 signs in, 2 uses the session from another extension, 3 reloads, 4 lets
// the access token expire, 5 signs out; 6 (deny), 7 (cancel) and 8 (loopback) start signed out.
// A scenario whose precondition failed is skipped, not left to time out; a scenario that failed
// leaves the window reloaded for the next one.
//
// Artifacts go to .cache/e2e/artifacts/<UTC time>-scenarios/: a screenshot per step, report.json
// (also copied to .cache/e2e/artifacts/latest-report.json), activation.json (also
// .cache/e2e/artifacts/activation.json, for `npm run bench`), the extension's own log files,
// code-server's and the browser's logs, the consumer's reports. Tokens never go into those files
// except `*.token` ones; the last test checks that against every secret the IdP issued.
//
// Environment: OAUTH_ANYWHERE_SECRET_LEDGER (every secret the IdP issued is appended there),
// OAUTH_ANYWHERE_LOG_LEDGER (every line of the extension's logs is appended there).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { launchChromium, newArtifactsDir, openWorkbench, runCommand, screenshot, waitForWorkbenchReady } from './browser.mjs';
import { DEFAULT_SETTINGS, installExtension, killAllCodeServers, makeTempDir, packageConsumer, startCodeServer } from './codeServer.mjs';
import { packageExtension } from './extensionPackage.mjs';
import { startIdpProcess } from './idpProcess.mjs';
import { ARTIFACTS_ROOT, REPO_ROOT, provision } from './provision.mjs';
import {
  ACCOUNT_ENTRY,
  ACCOUNT_LABEL,
  SIGN_IN_ENTRY,
  SIGN_IN_PROMPT,
  activationRequests,
  activations,
  chooseFromAccountsMenu,
  clickDialogButton,
  clickMenuEntry,
  closeMenus,
  dialog,
  dialogText,
  hoverMenuEntry,
  logTimeDiffMs,
  parseDeviceNotification,
  toast,
  toastMessage,
  visibleToasts,
  waitForAccountsMenu,
  waitForActivations,
} from './workbench.mjs';
import { copyExtensionLogs, diffCounts, lastExtensionLogLine, passLedgersOn, readSecretLedger, scanArtifacts } from './runRecords.mjs';

const TIER_STARTED = Date.now();
const GET_SESSION = 'OAuth Anywhere Consumer: Get Session (create if none)';
const GET_SESSION_SILENT = 'OAuth Anywhere Consumer: Get Session (silent)';
const UI_TIMEOUT = 60_000;
/** The IdP's device polling interval (s): small, so that scenario 7 can watch several intervals. */
const DEVICE_INTERVAL_S = 1;
/** Access token lifetime (s): short, so that scenario 4 sees a real expiry. */
const ACCESS_TOKEN_TTL_S = 20;
const SCENARIO_TIMEOUT = 5 * 60_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message) => process.stderr.write(`[e2e] ${message}\n`);

const report = {
  tier: 'e2e',
  startedAt: new Date(TIER_STARTED).toISOString(),
  finishedAt: undefined,
  wallTimeMs: undefined,
  ok: undefined,
  environment: {},
  setup: { timings: {} },
  activation: {},
  signInToAccountMs: undefined,
  scenarios: [],
  artifactsCheck: undefined,
  notes: [],
};

/** Everything the scenarios share. */
const env = {};

/** The secrets the IdP issued, from its ledger (a file outside the artifacts folder). */
const issuedSecrets = () => readSecretLedger(env.secretLedger);
const lastLogLine = (pattern) => lastExtensionLogLine(env.userDataDir, pattern);
/** Copies the extension's log files into the artifacts folder and lists them in the report. */
function collectExtensionLogs() {
  if (!env.userDataDir) return [];
  report.extensionLogs = copyExtensionLogs(env.userDataDir, env.artifactsDir).map((file) => path.relative(REPO_ROOT, file));
  return report.extensionLogs;
}

const results = new Map(); // scenario number -> 'pass' | 'fail' | 'skip'

// ---------------------------------------------------------------------------------------------
// Scenario bookkeeping

/**
 * Declares a scenario as one `it`: times it, takes a screenshot on failure, skips it when a
 * scenario it needs did not pass, and reloads the window after a failure so the next one starts
 * clean.
 */
function scenario(number, title, { needs = [] }, body) {
  it(`${number}. ${title}`, { timeout: SCENARIO_TIMEOUT }, async (t) => {
    const entry = { scenario: number, title, status: 'running', wallTimeMs: undefined, timings: {}, checks: {}, screenshots: [], notes: [] };
    report.scenarios.push(entry);
    const missing = needs.filter((n) => results.get(n) !== 'pass');
    if (!env.ready) missing.unshift('setup');
    if (missing.length) {
      entry.status = 'skip';
      entry.wallTimeMs = 0;
      entry.notes.push(`skipped: needs ${missing.map((n) => (n === 'setup' ? 'the set-up' : `scenario ${n}`)).join(', ')}, which did not pass`);
      results.set(number, 'skip');
      t.skip(entry.notes[0]);
      return;
    }
    const started = Date.now();
    let shots = 0;
    const s = {
      entry,
      mark: (name, value = Date.now() - started) => (entry.timings[name] = value),
      check: (name, value) => (entry.checks[name] = value),
      note: (text) => entry.notes.push(text),
      shot: async (name, page = env.page) => {
        shots++;
        const file = await screenshot(page, `scenario${number}-${String(shots).padStart(2, '0')}-${name}`);
        entry.screenshots.push(path.relative(REPO_ROOT, file));
        return file;
      },
    };
    try {
      if (env.needsRecovery) await recoverWindow(s);
      await body(s);
      entry.status = 'pass';
      results.set(number, 'pass');
    } catch (error) {
      entry.status = 'fail';
      entry.error = String(error?.stack ?? error).split('\n').slice(0, 8).join('\n');
      results.set(number, 'fail');
      env.needsRecovery = true;
      await s.shot('failure').catch(() => {});
      entry.toastsAtFailure = await visibleToasts(env.page).catch(() => []);
      throw error;
    } finally {
      entry.wallTimeMs = Date.now() - started;
      log(`scenario ${number} ${entry.status} in ${(entry.wallTimeMs / 1000).toFixed(1)} s`);
    }
  });
}

/** After a failed scenario: close what it left open and reload the window. */
async function recoverWindow(s) {
  s.note('the previous scenario failed: reloaded the window first');
  const { page } = env;
  for (const extra of env.context.pages()) if (extra !== page) await extra.close().catch(() => {});
  await page.keyboard.press('Escape').catch(() => {});
  await reloadWindow();
  env.needsRecovery = false;
}

async function reloadWindow() {
  const before = activations(env.userDataDir).length;
  await env.page.reload({ waitUntil: 'domcontentloaded', timeout: UI_TIMEOUT });
  await env.page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  await waitForWorkbenchReady(env.page, { timeoutMs: UI_TIMEOUT });
  await waitForActivations(env.userDataDir, before + 1);
}

// ---------------------------------------------------------------------------------------------
// The consumer extension and the IdP

/**
 * Runs a consumer command from the palette and waits for its final report. VS Code's own consent
 * steps are answered as a person would: "Allow" the consumer to sign in, pick the demo account.
 */
async function consumer(s, command, { expectPrompts = false } = {}) {
  // The consumer's run counter restarts with its extension host (a reload), so the previous report
  // is removed instead: whatever report appears is this run's.
  fs.rmSync(env.consumerReport, { force: true });
  const started = Date.now();
  await runCommand(env.page, command === 'getSession' ? GET_SESSION : GET_SESSION_SILENT, { timeoutMs: UI_TIMEOUT });
  const prompts = [];
  const deadline = Date.now() + UI_TIMEOUT;
  for (;;) {
    const result = readConsumerReport();
    if (result && result.command === command && result.status !== 'pending') {
      return { ...result, prompts, elapsedMs: Date.now() - started };
    }
    if (Date.now() > deadline) throw new Error(`the consumer's ${command} did not finish within ${UI_TIMEOUT} ms; prompts answered: ${JSON.stringify(prompts)}`);
    const modal = dialog(env.page);
    if (await modal.isVisible().catch(() => false)) {
      const text = await dialogText(env.page);
      if (/wants to sign in using OAuth Anywhere/.test(text)) {
        if (expectPrompts) await s.shot('consumer-consent-dialog');
        prompts.push(text);
        await clickDialogButton(env.page, /^Allow$/).catch(() => {});
        await sleep(300);
        continue;
      }
    }
    const picker = env.page.locator('.quick-input-widget');
    const pick = picker.locator('.monaco-list-row', { hasText: new RegExp(`^${ACCOUNT_LABEL}$`) }).first();
    if (await pick.isVisible().catch(() => false)) {
      const title = ((await picker.locator('.quick-input-title').first().textContent().catch(() => '')) ?? '').trim();
      if (expectPrompts) await s.shot('consumer-account-picker');
      prompts.push(`account picker${title ? `: ${title}` : ''}`);
      // The list re-renders while it opens; choose by keyboard once the account row has the focus.
      const focused = await picker.locator('.monaco-list-row.focused').first().getAttribute('aria-label').catch(() => null);
      if (focused === ACCOUNT_LABEL) await env.page.keyboard.press('Enter');
      else await pick.click({ timeout: 5000 }).catch(() => {});
      await sleep(300);
      continue;
    }
    await sleep(200);
  }
}

function readConsumerReport() {
  try {
    return JSON.parse(fs.readFileSync(env.consumerReport, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The access token of the consumer's last session, from its `.token` file (never in a report). */
function consumerToken(result) {
  assert.ok(result.session?.accessTokenFile, 'the consumer report names its access token file');
  return fs.readFileSync(result.session.accessTokenFile, 'utf8');
}

async function idpCounts() {
  return env.idp.control.counts();
}

async function clearNotifications() {
  await runCommand(env.page, 'Notifications: Clear All Notifications', { timeoutMs: 20_000 }).catch(() => {});
}

async function noSignInPromptVisible() {
  return !(await visibleToasts(env.page)).some((text) => SIGN_IN_PROMPT.test(text));
}

/** Waits until nothing matches pattern among the toasts. */
async function waitForToastGone(pattern, timeoutMs = UI_TIMEOUT) {
  await toast(env.page, pattern).waitFor({ state: 'hidden', timeout: timeoutMs });
}

/** Starts the device sign-in from the Accounts menu and returns the parsed notification. */
async function startSignInFromAccountsMenu(s, { shots = true, beforeClick } = {}) {
  await waitForAccountsMenu(env.page, (items) => items.some((i) => SIGN_IN_ENTRY.test(i)), { what: '"Sign in with OAuth Anywhere ..."' });
  if (shots) await s.shot('accounts-menu-sign-in-entry');
  await beforeClick?.();
  const clickedAt = Date.now();
  // Clicked in the menu just shown; should it have closed meanwhile, opened again.
  await clickMenuEntry(env.page, SIGN_IN_ENTRY, { timeoutMs: 3000 }).catch(() => chooseFromAccountsMenu(env.page, SIGN_IN_ENTRY));
  return clickedAt;
}

// ---------------------------------------------------------------------------------------------

describe('OAuth Anywhere in VS Code (code-server) in Chromium', () => {
  before(async () => {
    const t0 = Date.now();
    const timings = report.setup.timings;
    const provisioned = await provision();
    timings.provisionMs = Date.now() - t0;
    report.environment = {
      codeServer: provisioned.codeServerVersion,
      nodeForCodeServer: path.basename(provisioned.nodeDir),
      node: process.version,
      chromium: provisioned.chromium,
    };

    env.artifactsDir = newArtifactsDir('scenarios');
    report.artifactsDir = path.relative(REPO_ROOT, env.artifactsDir);
    log(`artifacts: ${env.artifactsDir}`);
    env.work = makeTempDir('scenarios');
    // Also on Ctrl+C: the scratch folder holds the IdP's secret ledger.
    process.once('exit', () => {
      killAllCodeServers(); // first, so nothing writes into the folder while it goes
      fs.rmSync(env.work, { recursive: true, force: true });
    });
    env.secretLedger = path.join(env.work, 'secret-ledger.jsonl');
    env.consumerReport = path.join(env.artifactsDir, 'consumer', 'report.json');
    env.userDataDir = path.join(env.work, 'user-data');
    env.extensionsDir = path.join(env.work, 'extensions');
    env.folder = path.join(env.work, 'workspace');

    let t = Date.now();
    log('building the VSIX (npm run package)...');
    const packaged = await packageExtension(path.join(env.work, 'vsix'));
    env.vsix = packaged.vsix;
    report.setup.vsixBytes = packaged.bytes;
    report.setup.packageOutput = packaged.output;
    timings.packageExtensionMs = Date.now() - t;
    t = Date.now();
    const consumerVsix = await packageConsumer(path.join(env.work, 'vsix'));
    timings.packageConsumerMs = Date.now() - t;

    t = Date.now();
    env.idp = await startIdpProcess({
      deviceInterval: DEVICE_INTERVAL_S,
      accessTokenTtl: ACCESS_TOKEN_TTL_S,
      secretLedger: env.secretLedger,
      onStderr: (chunk) => fs.appendFileSync(path.join(env.artifactsDir, 'idp.log'), chunk),
    });
    await env.idp.metadata();
    await env.idp.control.reset(); // the metadata read above is the test's, not the extension's
    timings.idpStartMs = Date.now() - t;
    report.environment.issuer = env.idp.issuer;
    report.environment.clientId = env.idp.clientId;
    log(`test IdP at ${env.idp.issuer}`);

    t = Date.now();
    await installExtension(env.vsix, env.extensionsDir, { provisioned });
    await installExtension(consumerVsix, env.extensionsDir, { provisioned });
    timings.installExtensionsMs = Date.now() - t;

    env.settings = {
      ...DEFAULT_SETTINGS,
      'oauthAnywhere.issuer': env.idp.issuer,
      'oauthAnywhere.clientId': env.idp.clientId,
      'oauthAnywhereConsumer.reportFile': env.consumerReport,
    };
    const spawnedAt = Date.now();
    env.server = await startCodeServer({
      provisioned,
      extensionsDir: env.extensionsDir,
      userDataDir: env.userDataDir,
      folder: env.folder,
      settings: env.settings,
      defaultSettings: false,
      logFile: path.join(env.artifactsDir, 'code-server.log'),
      scratchDir: path.join(env.work, 'code-server-home'),
    });
    timings.codeServerHealthyMs = env.server.timings.healthzMs;
    log(`code-server at ${env.server.url}`);

    t = Date.now();
    env.browser = await launchChromium({ artifactsDir: env.artifactsDir });
    timings.chromiumLaunchMs = Date.now() - t;
    env.page = env.browser.page;
    env.context = env.browser.context;
    await env.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(env.server.url).origin });

    await openWorkbench(env.page, env.server.url, { timeoutMs: UI_TIMEOUT });
    timings.spawnToWorkbenchVisibleMs = Date.now() - spawnedAt;
    await waitForWorkbenchReady(env.page, { timeoutMs: UI_TIMEOUT });
    await waitForActivations(env.userDataDir, 1);
    timings.spawnToExtensionActivatedMs = Date.now() - spawnedAt;
    env.activationCounts = await idpCounts();
    timings.setupTotalMs = Date.now() - t0;
    env.ready = true;
    log(`extension activated ${timings.spawnToExtensionActivatedMs} ms after code-server was spawned`);
  }, { timeout: 25 * 60_000 });

  after(async () => {
    const t = Date.now();
    if (env.browser) await env.browser.close().catch((error) => report.notes.push(`closing Chromium: ${error}`));
    if (env.server) await env.server.stop().catch((error) => report.notes.push(`stopping code-server: ${error}`));
    if (env.idp) await env.idp.stop().catch((error) => report.notes.push(`stopping the IdP: ${error}`));
    if (env.secondIdp) await env.secondIdp.stop().catch((error) => report.notes.push(`stopping the second IdP: ${error}`));
    report.teardownMs = Date.now() - t;
    if (env.artifactsDir) {
      collectExtensionLogs();
      passLedgersOn(env.secretLedger, env.userDataDir);
      writeReports();
    }
    if (env.work) fs.rmSync(env.work, { recursive: true, force: true, maxRetries: 3 });
  }, { timeout: 120_000 });

  it('activation: provider registered at once, no IdP request, no SecretStorage read', async () => {
    assert.ok(env.ready, 'set-up finished');
    const [first] = activations(env.userDataDir);
    const [requested] = activationRequests(env.userDataDir);
    const requests = Object.values(env.activationCounts).reduce((a, b) => a + b, 0);
    Object.assign(report.activation, {
      providerRegisteredMsAfterActivate: first.registeredMs,
      secretStorageReadsDuringActivation: first.secretStorageReads,
      idpRequestsDuringActivation: requests,
      activationRequestToRegisteredMs: requested ? logTimeDiffMs(requested, first.at) : undefined,
      activationEvent: 'onStartupFinished',
      source: 'the extension log line "Provider registered N ms after activate(); N SecretStorage reads during activation." in code-server\'s real remote extension host; IdP request counter of the test IdP',
    });
    assert.equal(first.secretStorageReads, 0, 'no SecretStorage read during activate()');
    assert.equal(requests, 0, `no request to the IdP while activating, saw ${JSON.stringify(env.activationCounts)}`);
  });

  scenario(1, 'Accounts menu -> device code -> approve at the IdP -> the account shows', { needs: [] }, async (s) => {
    const { page, context, idp } = env;
    await s.shot('workbench');
    const clickedAt = await startSignInFromAccountsMenu(s, {
      // The extension's own first getSession (after activation) and opening the menu made no request either.
      beforeClick: async () => {
        report.activation.idpRequestsBeforeFirstSignIn = Object.values(await idpCounts()).reduce((a, b) => a + b, 0);
      },
    });

    const prompt = toast(page, /Enter code/);
    await prompt.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    s.mark('clickToCodeShownMs', Date.now() - clickedAt);
    const message = await toastMessage(prompt);
    const code = parseDeviceNotification(message);
    s.check('notification', message.replace(code.userCode, '<user code>'));
    await s.shot('device-code-notification');
    assert.match(code.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
    assert.equal(code.clientId, idp.clientId, 'the notification names the client');
    assert.equal(code.issuer, `${idp.issuer}/`, 'the notification names the issuer');
    assert.ok(code.verificationUri.startsWith(idp.issuer), `verification URI ${code.verificationUri} is the IdP's`);
    assert.ok(await prompt.locator('a[href^="command:oauthAnywhere.copyCodeAndOpenBrowser"]').isVisible(), '"Copy code and open browser" is a rendered command link');
    assert.ok(await prompt.locator('.monaco-button', { hasText: 'Cancel' }).isVisible(), 'the notification has Cancel');
    s.check('flowLogged', lastLogLine(/Sign-in flow:/)?.replace(/^\S+ \S+ /, ''));
    assert.match(lastLogLine(/Sign-in flow:/) ?? '', /Sign-in flow: device/, 'auto picked the device grant');

    // A second tab, as a person would: the IdP's own verification page, type the code, approve.
    const idpPage = await context.newPage();
    await idpPage.goto(code.verificationUri, { waitUntil: 'domcontentloaded', timeout: UI_TIMEOUT });
    const input = idpPage.locator('input[name="user_code"]');
    await input.waitFor({ timeout: UI_TIMEOUT });
    await s.shot('idp-verification-page', idpPage);
    await input.pressSequentially(code.userCode, { delay: 30 });
    await s.shot('idp-code-typed', idpPage);
    await idpPage.locator('#continue').click();
    await idpPage.locator('#confirm').waitFor({ timeout: UI_TIMEOUT });
    assert.equal((await idpPage.locator('#user-code').textContent())?.trim(), code.userCode, 'the IdP confirms the same code');
    await s.shot('idp-confirm-code', idpPage);
    await idpPage.locator('#confirm').click();
    await idpPage.locator('#approve').waitFor({ timeout: UI_TIMEOUT });
    await s.shot('idp-approve-page', idpPage);
    const approvedAt = Date.now();
    await idpPage.locator('#approve').click();
    await idpPage.locator('#device-success').waitFor({ timeout: UI_TIMEOUT });
    await s.shot('idp-signed-in-page', idpPage);
    await idpPage.close();

    await page.bringToFront();
    await waitForToastGone(/Enter code/);
    s.mark('approveToNotificationGoneMs', Date.now() - approvedAt);
    const items = await waitForAccountsMenu(page, (entries) => entries.some((i) => ACCOUNT_ENTRY.test(i)), { what: `"${ACCOUNT_LABEL} (OAuth Anywhere)"` });
    const shownAt = Date.now();
    s.mark('approveToAccountShownMs', shownAt - approvedAt);
    s.mark('signInToAccountMs', shownAt - clickedAt);
    report.signInToAccountMs = shownAt - clickedAt;
    s.check('accountsMenu', items);
    await s.shot('accounts-menu-signed-in');
    await closeMenus(page);

    const after = await idpCounts();
    s.check('idpRequests', after);
    assert.equal(after.device_authorization, 1, 'one device authorization');
    assert.ok(after['token:device_code'] >= 1, 'the extension polled the token endpoint');
    assert.ok(!after.authorization, 'no browser redirect flow');
    assert.match(lastLogLine(/Signed in /) ?? '', /Signed in demo with scopes/);
  });

  scenario(2, 'a consumer extension gets a session whose access token the IdP\'s userinfo accepts', { needs: [1] }, async (s) => {
    const before = await idpCounts();
    const result = await consumer(s, 'getSession', { expectPrompts: true });
    s.mark('getSessionMs', result.elapsedMs);
    s.check('vsCodePromptsAnswered', result.prompts);
    await s.shot('consumer-got-session');
    assert.equal(result.status, 'ok', `consumer getSession: ${JSON.stringify(result.error)}`);
    assert.equal(result.session.account.label, ACCOUNT_LABEL);
    assert.equal(result.session.account.id, `${env.idp.issuer}/#demo-user`);
    for (const scope of ['openid', 'profile', 'email']) assert.ok(result.session.scopes.includes(scope), `scope ${scope}`);
    assert.ok(result.session.hasIdToken, 'the session carries an ID token');
    assert.equal(result.env.remoteName, new URL(env.server.url).host, 'the consumer runs in the remote extension host');

    const token = consumerToken(result);
    const userinfo = await env.idp.userinfo(token);
    s.check('userinfo', { status: userinfo.status, sub: userinfo.body.sub, preferred_username: userinfo.body.preferred_username });
    assert.equal(userinfo.status, 200, `userinfo accepts the token: ${JSON.stringify(userinfo.body)}`);
    assert.equal(userinfo.body.sub, 'demo-user');
    const introspection = await env.idp.control.introspect(token);
    s.check('introspection', { active: introspection.active, client_id: introspection.client_id, sub: introspection.sub });
    assert.equal(introspection.active, true);
    assert.equal(introspection.client_id, env.idp.clientId);
    // Two garbage tokens prove userinfo can say no.
    assert.equal((await env.idp.userinfo(`${token}x`)).status, 401, 'userinfo refuses a modified token');

    const after = await idpCounts();
    assert.equal(after.device_authorization ?? 0, before.device_authorization ?? 0, 'no second sign-in');
    env.lastToken = token;
    env.lastFingerprint = result.session.accessTokenSha256;
  });

  scenario(3, 'reload the window: still signed in, no sign-in prompt (SecretStorage persisted)', { needs: [1] }, async (s) => {
    const { page } = env;
    const before = await idpCounts();
    const reloadedAt = Date.now();
    await reloadWindow();
    s.mark('reloadToActivatedMs', Date.now() - reloadedAt);
    const afterActivation = await noSignInPromptVisible();
    await s.shot('reloaded-workbench');

    const items = await waitForAccountsMenu(page, (entries) => entries.some((i) => ACCOUNT_ENTRY.test(i)), { what: `"${ACCOUNT_LABEL} (OAuth Anywhere)"` });
    s.mark('reloadToAccountShownMs', Date.now() - reloadedAt);
    s.check('accountsMenu', items);
    assert.ok(!items.some((i) => SIGN_IN_ENTRY.test(i)), 'no "Sign in with OAuth Anywhere" entry while signed in');
    await s.shot('accounts-menu-after-reload');
    await closeMenus(page);

    const result = await consumer(s, 'getSessionSilent');
    assert.equal(result.status, 'ok');
    assert.equal(result.session?.account.label, ACCOUNT_LABEL, 'the consumer gets the stored session without asking');
    assert.equal(result.prompts.length, 0, `no VS Code prompt: ${JSON.stringify(result.prompts)}`);
    const token = consumerToken(result);
    assert.equal((await env.idp.userinfo(token)).status, 200, 'its token is valid');
    await s.shot('consumer-silent-after-reload');

    const toasts = await visibleToasts(page);
    s.check('toasts', toasts);
    assert.ok(afterActivation && !toasts.some((text) => SIGN_IN_PROMPT.test(text)), `no sign-in notification: ${JSON.stringify(toasts)}`);
    const after = await idpCounts();
    s.check('idpRequestsSinceReload', diffCounts(before, after));
    // A device or browser sign-in cannot happen without one of these requests.
    assert.equal(after.device_authorization ?? 0, before.device_authorization ?? 0, 'no device authorization since the reload');
    assert.equal(after.authorization ?? 0, before.authorization ?? 0, 'no authorization request since the reload');
    env.lastToken = token;
    env.lastFingerprint = result.session.accessTokenSha256;
  });

  scenario(4, 'access token expiry (short TTL): the consumer\'s next getSession returns a new, valid token', { needs: [1, 2] }, async (s) => {
    const old = env.lastToken;
    const before = await idpCounts();
    s.check('accessTokenTtlSeconds', ACCESS_TOKEN_TTL_S);
    // Wait for the IdP itself to call the old token expired (a condition, not a duration).
    const waitStarted = Date.now();
    for (;;) {
      const { active } = await env.idp.control.introspect(old);
      if (!active) break;
      if (Date.now() - waitStarted > 3 * ACCESS_TOKEN_TTL_S * 1000 + 30_000) throw new Error('the old access token never became inactive');
      await sleep(1000);
    }
    s.mark('waitedForExpiryMs', Date.now() - waitStarted);
    assert.equal((await env.idp.userinfo(old)).status, 401, 'userinfo refuses the expired token');
    await s.shot('before-getSession-token-expired');

    const result = await consumer(s, 'getSession');
    s.mark('getSessionWithRefreshMs', result.elapsedMs);
    assert.equal(result.status, 'ok', `consumer getSession: ${JSON.stringify(result.error)}`);
    assert.equal(result.prompts.length, 0, 'no prompt');
    const fresh = consumerToken(result);
    assert.notEqual(result.session.accessTokenSha256, env.lastFingerprint, 'a different access token');
    assert.notEqual(fresh, old);
    const userinfo = await env.idp.userinfo(fresh);
    assert.equal(userinfo.status, 200, 'userinfo accepts the new token');
    assert.equal(userinfo.body.sub, 'demo-user');
    assert.equal((await env.idp.control.introspect(fresh)).active, true);
    await s.shot('consumer-got-refreshed-session');

    const after = await idpCounts();
    const diff = diffCounts(before, after);
    s.check('idpRequests', diff);
    assert.ok((diff['token:refresh_token'] ?? 0) >= 1, 'refreshed with the refresh token');
    assert.ok(!diff.device_authorization && !diff.authorization, 'no interactive sign-in');
    assert.ok(await noSignInPromptVisible(), 'no sign-in notification');
    assert.match(lastLogLine(/Refreshed the session/) ?? '', /Refreshed the session of demo/);
    env.lastToken = fresh;
    env.lastFingerprint = result.session.accessTokenSha256;
  });

  scenario(5, 'sign out from the Accounts menu: the session is gone and the IdP says inactive', { needs: [1] }, async (s) => {
    const { page, idp } = env;
    // The session's tokens right now: a fresh access token from the consumer, the newest refresh token.
    const current = await consumer(s, 'getSession');
    assert.equal(current.status, 'ok');
    const accessToken = consumerToken(current);
    const refreshTokens = issuedSecrets().filter((x) => x.kind === 'refresh_token').map((x) => x.value);
    assert.ok(refreshTokens.length >= 1, 'the IdP issued a refresh token (secret ledger)');
    assert.equal((await idp.control.introspect(accessToken)).active, true, 'before: access token active');
    assert.equal((await idp.control.introspect(refreshTokens.at(-1))).active, true, 'before: refresh token active');
    const before = await idpCounts();

    await waitForAccountsMenu(page, (entries) => entries.some((i) => ACCOUNT_ENTRY.test(i)), { what: 'the account' });
    await hoverMenuEntry(page, ACCOUNT_ENTRY);
    await page.locator('.monaco-menu .action-label', { hasText: /^Sign Out$/ }).first().waitFor({ timeout: UI_TIMEOUT });
    await s.shot('account-submenu');
    await clickMenuEntry(page, /^Sign Out$/);
    await dialog(page).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    s.check('signOutDialog', await dialogText(page));
    await s.shot('sign-out-dialog');
    const clickedAt = Date.now();
    await clickDialogButton(page, /^Sign Out$/);

    const items = await waitForAccountsMenu(page, (entries) => !entries.some((i) => ACCOUNT_ENTRY.test(i)) && entries.some((i) => SIGN_IN_ENTRY.test(i)), {
      what: 'no account and the "Sign in with OAuth Anywhere" entry again',
    });
    s.mark('signOutToMenuUpdatedMs', Date.now() - clickedAt);
    s.check('accountsMenu', items);
    await s.shot('accounts-menu-signed-out');
    await closeMenus(page);

    const silent = await consumer(s, 'getSessionSilent');
    assert.equal(silent.status, 'ok');
    assert.equal(silent.session, null, 'the consumer gets no session');

    const after = await idpCounts();
    const diff = diffCounts(before, after);
    s.check('idpRequests', diff);
    const revocations = diff.revocation ? (await idp.control.requests()).filter((r) => r.endpoint === 'revocation').slice(-diff.revocation) : [];
    assert.ok(revocations.length >= 1, 'the extension called the revocation endpoint');
    assert.ok(revocations.every((r) => r.status === 200), `revocations answered 200: ${JSON.stringify(revocations)}`);
    const issued = issuedSecrets().filter((x) => x.kind === 'access_token' || x.kind === 'refresh_token');
    const stillActive = [];
    for (const secret of issued) if ((await idp.control.introspect(secret.value)).active) stillActive.push(secret.kind);
    s.check('introspectedTokens', { total: issued.length, active: stillActive.length });
    assert.deepEqual(stillActive, [], 'every access and refresh token issued is inactive at the IdP');
    assert.match(lastLogLine(/Signed out /) ?? '', /Signed out demo/);
    await s.shot('signed-out-workbench');
  });

  scenario(6, 'deny at the IdP: a clear error notification, no session, no leftover prompt', { needs: [] }, async (s) => {
    const { page, context, idp } = env;
    await ensureSignedOut(s);
    await clearNotifications();
    const clickedAt = await startSignInFromAccountsMenu(s);
    const prompt = toast(page, /Enter code/);
    await prompt.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const code = parseDeviceNotification(await toastMessage(prompt));
    s.mark('clickToCodeShownMs', Date.now() - clickedAt);
    await s.shot('device-code-notification');

    // This time through the notification's own link: copies the code and opens the browser.
    const popup = context.waitForEvent('page', { timeout: UI_TIMEOUT });
    popup.catch(() => {}); // awaited below; a failure before that must not be an unhandled rejection
    await prompt.locator('a[href^="command:oauthAnywhere.copyCodeAndOpenBrowser"]').click();
    await dialog(page).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    s.check('openExternalDialog', (await dialogText(page)).replace(code.userCode, '<user code>'));
    await s.shot('open-external-dialog');
    await clickDialogButton(page, /^Open$/);
    const idpPage = await popup;
    await idpPage.locator('#confirm').waitFor({ timeout: UI_TIMEOUT });
    assert.equal((await idpPage.locator('#user-code').textContent())?.trim(), code.userCode, 'the link opened the IdP with the code filled in');
    await s.shot('idp-confirm-code', idpPage);
    await idpPage.locator('#confirm').click();
    await idpPage.locator('#deny').waitFor({ timeout: UI_TIMEOUT });
    await s.shot('idp-approve-page', idpPage);
    const deniedAt = Date.now();
    await idpPage.locator('#deny').click();
    await idpPage.locator('#error').waitFor({ timeout: UI_TIMEOUT });
    await s.shot('idp-denied-page', idpPage);
    await idpPage.close();

    await page.bringToFront();
    const clipboard = await page.evaluate(() => navigator.clipboard.readText()).catch((error) => `unreadable: ${error.message}`);
    s.check('clipboardHoldsTheCode', clipboard === code.userCode);
    assert.equal(clipboard, code.userCode, 'the link copied the user code');
    const failure = toast(page, /OAuth Anywhere sign-in failed/);
    await failure.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    s.mark('denyToErrorShownMs', Date.now() - deniedAt);
    const message = await toastMessage(failure);
    s.check('errorNotification', message);
    assert.match(message, /denied|refused|declined/i, 'the message says the sign-in was denied');
    assert.ok(await failure.locator('.monaco-button', { hasText: 'Show Log' }).isVisible(), 'it offers Show Log');
    await waitForToastGone(/Enter code/);
    await s.shot('error-notification');
    assert.ok(await noSignInPromptVisible(), 'no leftover sign-in prompt');

    const silent = await consumer(s, 'getSessionSilent');
    assert.equal(silent.session, null, 'no session');
    const items = await waitForAccountsMenu(page, (entries) => !entries.some((i) => ACCOUNT_ENTRY.test(i)), { what: 'no account' });
    s.check('accountsMenu', items);
    await s.shot('accounts-menu-no-account');
    await closeMenus(page);
    // The device code is finished: a denied code is not polled any more.
    const polls = await idp.control.devicePolls();
    await sleep(3 * DEVICE_INTERVAL_S * 1000 + 1000);
    assert.equal(await idp.control.devicePolls(), polls, 'no polling after the denial');
  });

  scenario(7, 'cancel from the progress notification: polling stops', { needs: [] }, async (s) => {
    const { page, idp } = env;
    await ensureSignedOut(s);
    await clearNotifications();
    await startSignInFromAccountsMenu(s, { shots: false });
    const prompt = toast(page, /Enter code/);
    await prompt.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    // Polling is under way: the IdP sees polls arrive (so the check below can fail).
    const startPolls = await idp.control.devicePolls();
    const deadline = Date.now() + UI_TIMEOUT;
    while ((await idp.control.devicePolls()) < startPolls + 2) {
      if (Date.now() > deadline) throw new Error('the extension did not poll');
      await sleep(250);
    }
    await s.shot('polling-notification');
    const intervalLine = lastLogLine(/Device sign-in started: polling every/) ?? '';
    const intervalS = Number(/polling every ([\d.]+) s/.exec(intervalLine)?.[1] ?? DEVICE_INTERVAL_S);
    s.check('pollIntervalSeconds', intervalS);

    await prompt.locator('.monaco-button', { hasText: /^Cancel$/ }).click();
    await waitForToastGone(/Enter code/);
    const pollsAtCancel = await idp.control.devicePolls();
    s.check('pollsBeforeCancel', pollsAtCancel - startPolls);
    await s.shot('after-cancel');
    const watchMs = Math.max(3 * intervalS * 1000 + 2000, 5000);
    s.check('watchedAfterCancelMs', watchMs);
    await sleep(watchMs);
    const pollsLater = await idp.control.devicePolls();
    s.check('pollsAfterCancel', pollsLater - pollsAtCancel);
    assert.equal(pollsLater, pollsAtCancel, `no poll in the ${watchMs} ms after Cancel`);

    const toasts = await visibleToasts(page);
    s.check('toasts', toasts);
    assert.ok(!toasts.some((text) => /sign-in failed/i.test(text)), 'a cancel is not reported as a failure');
    const logged = lastLogLine(/Sign-in (stopped|failed)/) ?? '';
    s.check('logged', logged.replace(/^\S+ \S+ /, ''));
    assert.match(logged, /\[info\] Sign-in stopped: Sign-in was cancelled/, 'the log calls it a cancel, not an error');
    assert.ok(await noSignInPromptVisible(), 'no leftover prompt');
    const silent = await consumer(s, 'getSessionSilent');
    assert.equal(silent.session, null, 'no session');
    await s.shot('cancelled-workbench');
  });

  scenario(8, 'oauthAnywhere.flow "loopback": authorize page in a new tab, redirect to the loopback server, signed in', { needs: [] }, async (s) => {
    const { context, idp } = env;
    await ensureSignedOut(s);
    // code-server does not pick up a settings.json written behind its back here, so reload.
    env.settings = { ...env.settings, 'oauthAnywhere.flow': 'loopback' };
    fs.writeFileSync(path.join(env.userDataDir, 'User', 'settings.json'), `${JSON.stringify(env.settings, null, 2)}\n`);
    await reloadWindow();
    const { page } = env;
    const before = await idpCounts();

    const popup = context.waitForEvent('page', { timeout: UI_TIMEOUT });
    popup.catch(() => {}); // awaited below
    const clickedAt = await startSignInFromAccountsMenu(s);
    const waiting = toast(page, /Waiting for you to sign in in your browser/);
    await waiting.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    assert.match(lastLogLine(/Sign-in flow:/) ?? '', /Sign-in flow: loopback/, 'the setting picked the loopback flow');
    await dialog(page).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const dialogMessage = await dialogText(page);
    assert.match(dialogMessage, /open the external website/);
    assert.ok(dialogMessage.includes(`${idp.issuer}/auth`), 'it opens the IdP\'s authorization endpoint');
    await s.shot('open-external-dialog');
    await clickDialogButton(page, /^Open$/);
    const idpPage = await popup;
    await idpPage.locator('#approve').waitFor({ timeout: UI_TIMEOUT });
    assert.ok(idpPage.url().startsWith(idp.issuer), 'the new tab is at the IdP, not behind code-server\'s proxy');
    await s.shot('idp-approve-page', idpPage);
    const approvedAt = Date.now();
    await idpPage.locator('#approve').click();
    await idpPage.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/, { timeout: UI_TIMEOUT });
    const landed = new URL(idpPage.url());
    await idpPage.locator('#result').waitFor({ timeout: UI_TIMEOUT });
    const result = (await idpPage.locator('#result').textContent())?.trim();
    s.check('callbackPage', { origin: landed.origin, path: landed.pathname, text: result });
    assert.match(result ?? '', /signed in/i);
    assert.ok(landed.port !== new URL(env.server.url).port, 'the extension\'s own server, not code-server');
    await s.shot('callback-success-page', idpPage);
    await idpPage.close();

    await page.bringToFront();
    await waitForToastGone(/Waiting for you to sign in/);
    const items = await waitForAccountsMenu(page, (entries) => entries.some((i) => ACCOUNT_ENTRY.test(i)), { what: 'the account' });
    s.mark('approveToAccountShownMs', Date.now() - approvedAt);
    s.mark('signInToAccountMs', Date.now() - clickedAt);
    s.check('accountsMenu', items);
    await s.shot('accounts-menu-signed-in');
    await closeMenus(page);

    const diff = diffCounts(before, await idpCounts());
    s.check('idpRequests', diff);
    assert.equal(diff.authorization, 1, 'one authorization request');
    assert.equal(diff['token:authorization_code'], 1, 'one code exchange');
    assert.ok(!diff.device_authorization, 'no device grant');

    const session = await consumer(s, 'getSession');
    assert.equal(session.status, 'ok');
    assert.equal(session.session.account.label, ACCOUNT_LABEL);
    assert.equal((await idp.userinfo(consumerToken(session))).status, 200, 'userinfo accepts the token');
    await s.shot('consumer-got-session');
  });

  scenario(9, 'two providers (oauthAnywhere.providers): both in the Accounts menu, each signed in separately', { needs: [8] }, async (s) => {
    // A second, independent IdP on another loopback address, registered as oauth-anywhere.second.
    env.secondIdp = await startIdpProcess({
      host: '127.0.0.3',
      deviceInterval: DEVICE_INTERVAL_S,
      secretLedger: env.secretLedger,
      onStderr: (chunk) => fs.appendFileSync(path.join(env.artifactsDir, 'idp-second.log'), chunk),
    });
    const second = env.secondIdp;
    env.settings = {
      ...env.settings,
      'oauthAnywhere.providers': [{ id: 'second', label: 'Second IdP', issuer: second.issuer, clientId: second.clientId, flow: 'device' }],
    };
    fs.writeFileSync(path.join(env.userDataDir, 'User', 'settings.json'), `${JSON.stringify(env.settings, null, 2)}\n`);
    await reloadWindow();
    const { page, context } = env;
    const secondSignIn = /^Sign in with Second IdP/;
    const secondAccount = /^demo \(Second IdP\)$/;

    const before = await waitForAccountsMenu(page, (items) => items.some((i) => ACCOUNT_ENTRY.test(i)) && items.some((i) => secondSignIn.test(i)), {
      what: 'the first provider signed in and "Sign in with Second IdP"',
    });
    s.check('accountsMenuBefore', before);
    await s.shot('accounts-menu-two-providers');
    await clickMenuEntry(page, secondSignIn, { timeoutMs: 3000 }).catch(() => chooseFromAccountsMenu(page, secondSignIn));

    const prompt = toast(page, /Enter code/);
    await prompt.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    const code = parseDeviceNotification(await toastMessage(prompt));
    assert.equal(code.issuer, `${second.issuer}/`, 'the code is for the second IdP');
    await s.shot('second-device-code');
    const idpPage = await context.newPage();
    await idpPage.goto(code.verificationUri, { waitUntil: 'domcontentloaded', timeout: UI_TIMEOUT });
    await idpPage.locator('input[name="user_code"]').pressSequentially(code.userCode, { delay: 30 });
    await idpPage.locator('#continue').click();
    await idpPage.locator('#confirm').click();
    await idpPage.locator('#approve').click();
    await idpPage.locator('#device-success').waitFor({ timeout: UI_TIMEOUT });
    await idpPage.close();
    await page.bringToFront();
    await waitForToastGone(/Enter code/);

    const after = await waitForAccountsMenu(page, (items) => items.some((i) => ACCOUNT_ENTRY.test(i)) && items.some((i) => secondAccount.test(i)), {
      what: 'both accounts',
    });
    s.check('accountsMenuAfter', after);
    await s.shot('accounts-menu-both-signed-in');
    await closeMenus(page);
    const secondCounts = await second.control.counts();
    s.check('secondIdpRequests', secondCounts);
    assert.ok(Object.keys(secondCounts).some((key) => key.startsWith('token')), 'the second IdP issued tokens');
    // The first provider's session is untouched: the consumer still gets it without a prompt.
    const first = await consumer(s, 'getSessionSilent');
    assert.equal(first.status, 'ok');
    assert.equal((await env.idp.userinfo(consumerToken(first))).status, 200, 'the first IdP still accepts its token');
  });

  it('artifacts: no issued secret in any file but *.token', async () => {
    assert.ok(env.artifactsDir, 'set-up made an artifacts folder');
    collectExtensionLogs();
    const secrets = issuedSecrets();
    assert.ok(secrets.length > 0 || !env.ready, 'the IdP ledger recorded secrets');
    report.artifactsCheck = scanArtifacts(env.artifactsDir, secrets);
    assert.deepEqual(report.artifactsCheck.leaks, []);
  });
});

// ---------------------------------------------------------------------------------------------

/** Precondition of 6-8: not signed in. Signs out with the product's command if an earlier scenario left a session. */
async function ensureSignedOut(s) {
  const silent = await consumer(s, 'getSessionSilent');
  if (!silent.session) return;
  s.note('a session was left over from an earlier scenario: signed out with "OAuth Anywhere: Sign Out" first');
  await runCommand(env.page, 'OAuth Anywhere: Sign Out', { timeoutMs: UI_TIMEOUT });
  await waitForAccountsMenu(env.page, (entries) => !entries.some((i) => ACCOUNT_ENTRY.test(i)), { what: 'no account' });
  await closeMenus(env.page);
}

function writeReports() {
  report.finishedAt = new Date().toISOString();
  report.wallTimeMs = Date.now() - TIER_STARTED;
  report.ok = report.scenarios.length === 8 && report.scenarios.every((x) => x.status === 'pass') && !report.artifactsCheck?.leaks?.length;
  report.summary = report.scenarios.map((x) => `${x.scenario}. ${x.status} ${(x.wallTimeMs / 1000).toFixed(1)} s`);
  const text = `${JSON.stringify(report, null, 2)}\n`;
  fs.writeFileSync(path.join(env.artifactsDir, 'report.json'), text);
  fs.mkdirSync(ARTIFACTS_ROOT, { recursive: true });
  fs.writeFileSync(path.join(ARTIFACTS_ROOT, 'latest-report.json'), text);
  const activation = {
    measuredAt: report.finishedAt,
    codeServer: report.environment.codeServer,
    ...report.activation,
    report: path.relative(REPO_ROOT, path.join(env.artifactsDir, 'report.json')),
  };
  fs.writeFileSync(path.join(env.artifactsDir, 'activation.json'), `${JSON.stringify(activation, null, 2)}\n`);
  if (report.activation.providerRegisteredMsAfterActivate !== undefined) {
    fs.writeFileSync(path.join(ARTIFACTS_ROOT, 'activation.json'), `${JSON.stringify(activation, null, 2)}\n`);
  }
  log(`report: ${path.join(env.artifactsDir, 'report.json')}`);
  log(`tier wall time ${(report.wallTimeMs / 1000).toFixed(1)} s; ${report.summary.join('; ')}`);
}
