// End-to-end: tabs of one code-server (each a window with its own extension host on the server)
// sharing two sessions of one provider, against the real test IdP, driven in real Chromium.
//
//   node --test --test-reporter=spec test/e2e/twoTabs.test.mjs
//
// One code-server, one browser profile (its tabs share the browser's storage, where code-server keeps
// SecretStorage) and one IdP; the steps run in order and build on each other:
//   T1 SecretStorage itself, with the consumer's own secrets: a secret stored in tab 1 never reaches the
//      open tab 2 (read 20 times over 5 s; no onDidChange there); a tab opened later sees it; once tab 2
//      (which never saw it) stores a secret of its own, a tab opened next sees what tab 2 held. This is
//      what test/support/memorySecretStorage.ts models as 'never'.
//   T2 two sessions of one account: the provider asks only for "openid offline_access"; the consumer
//      asks once with "profile", once with "email" (device sign-ins, approved at the IdP); both tabs
//      get both sessions.
//   T3 rounds: access tokens live 8 s; once the IdP calls both expired, the consumers in both tabs ask
//      for both sessions at the same moment. Per round: one refresh per session, no replayed refresh
//      token, both tabs served the same new token, which the IdP's userinfo accepts.
//   T4 hand-over: tab 1 alone refreshes; tab 2 hears of it and serves the rotated token without a
//      refresh of its own.
//   T5 sign-out of one session in tab 1 with "OAuth Anywhere: Sign Out" (the Accounts menu's Sign Out
//      signs out the whole account, both sessions): tab 2 drops it within a second (the consumers'
//      onDidChangeSessions in both tabs, measured); a few seconds later neither tab has it.
//   T6 both tabs' Accounts menus still show the account, whose other session remains: VS Code takes
//      the account of every removed session out of the menu and puts back only the accounts of changed
//      or added sessions, so the provider reports the account's remaining sessions as changed.
//   T7 it never comes back: not after tab 2 wrote its whole copy of storage (a secret, then a refresh
//      of its own, which tab 1 hears of), not in a third tab opened then, which sees only the
//      remaining session, with tab 2's newest token.
//   T8 the runtime directory the tabs meet in: 0700, no lock left held, nothing secret in a file.
//   T9 every tab closed (their extension hosts gone), then a new tab: with no other window to ask,
//      SecretStorage alone gives it the remaining session with the newest token, and not the other.
// Artifacts: .cache/e2e/artifacts/<UTC time>-two-tabs/: report.json with every figure (also
// .cache/e2e/artifacts/two-tabs.json), screenshots, the extension's logs, the consumers' control
// folder. The last test scans them for every secret the IdP issued.
//
// Environment: OAUTH_ANYWHERE_SECRET_LEDGER, OAUTH_ANYWHERE_LOG_LEDGER (see scenarios.test.mjs).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { SELECTORS, launchChromium, newArtifactsDir, openWorkbench, screenshot, waitForWorkbenchReady } from './browser.mjs';
import { DEFAULT_SETTINGS, installExtension, killAllCodeServers, makeTempDir, packageConsumer, startCodeServer } from './codeServer.mjs';
import { consumerControl } from './consumerControl.mjs';
import { packageExtension } from './extensionPackage.mjs';
import { startIdpProcess } from './idpProcess.mjs';
import { ARTIFACTS_ROOT, REPO_ROOT, provision } from './provision.mjs';
import { EXTENSION_ID, copyExtensionLogs, readSecretLedger, walkFiles } from './runRecords.mjs';
import {
  ACCOUNT_ENTRY,
  ACCOUNT_LABEL,
  activations,
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
import { stopWorkbench } from './workbenchSession.mjs';

const UI_TIMEOUT = 60_000;
const STEP_TIMEOUT = 5 * 60_000;
/** Access token lifetime (s): short, so that the rounds see real expiries. */
const ACCESS_TOKEN_TTL_S = 8;
const ROUNDS = 5;
/** Access token lifetime (s) from T7 on, longer than a tab takes to open. */
const LATER_ACCESS_TOKEN_TTL_S = 120;
/** The provider asks for these; the consumer adds `profile` for one session and `email` for the other. */
const PROVIDER_SCOPES = ['openid', 'offline_access'];
const SESSIONS = { profile: ['profile'], email: ['email'] };
/** Lead time of a request both tabs run at once: both extension hosts must have read it by then. */
const SAME_MOMENT_LEAD_MS = 1500;
/** The bound for a sign-out to reach the other tab. */
const SIGN_OUT_REACHES_OTHER_TAB_MS = 1000;
/** "Never comes back" is asked again after this long. */
const NEVER_COMES_BACK_AFTER_MS = 3000;
/** T1 reads the other tab this often, over at least this long. */
const MODEL_READS = 20;
const MODEL_WATCH_MS = 5000;

const GET_SESSION = 'oauthAnywhereConsumer.getSessionFor';
const STORE_PROBE = 'oauthAnywhereConsumer.storeProbe';
const READ_PROBE = 'oauthAnywhereConsumer.readProbe';
const WATCH_SESSIONS = 'oauthAnywhereConsumer.watchSessions';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message) => process.stderr.write(`[e2e two-tabs] ${message}\n`);

const env = {};
/** Open tabs by name: {name, page, pid, readyMs}. */
const tabs = new Map();
const results = new Map();
const report = {
  tier: 'e2e-two-tabs',
  startedAt: new Date().toISOString(),
  environment: {},
  setup: { timings: {} },
  tabs: {},
  model: undefined,
  signIn: undefined,
  rounds: [],
  handOver: undefined,
  signOut: undefined,
  runtimeDirectory: undefined,
  steps: [],
  artifactsCheck: undefined,
};

/** One step as one `it`: skipped when a step it needs did not pass; screenshots named after it. */
function step(id, title, { needs = [], todo }, body) {
  it(`${id}. ${title}`, { timeout: STEP_TIMEOUT, todo }, async (t) => {
    const entry = { step: id, title, ...(todo ? { todo } : {}), status: 'running', screenshots: [] };
    report.steps.push(entry);
    const missing = [...(env.ready ? [] : ['set-up']), ...needs.filter((n) => results.get(n) !== 'pass')];
    if (missing.length) {
      entry.status = 'skip';
      results.set(id, 'skip');
      t.skip(`needs ${missing.join(', ')}`);
      return;
    }
    const started = Date.now();
    const shot = async (where, name) => {
      const file = await screenshot(where.page, `${id}-${where.name}-${name}`);
      entry.screenshots.push(path.relative(REPO_ROOT, file));
    };
    try {
      await body({ shot });
      entry.status = 'pass';
      results.set(id, 'pass');
    } catch (error) {
      entry.status = 'fail';
      entry.error = String(error?.stack ?? error).split('\n').slice(0, 8).join('\n');
      results.set(id, 'fail');
      for (const open of tabs.values()) {
        await shot(open, 'failure').catch(() => {});
        entry[`toastsAtFailure-${open.name}`] = await visibleToasts(open.page).catch(() => []);
      }
      throw error;
    } finally {
      entry.wallTimeMs = Date.now() - started;
      log(`${id} ${entry.status} in ${(entry.wallTimeMs / 1000).toFixed(1)} s`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Tabs and what their consumers do

/** Opens a tab of the workbench (the first one is the browser's own page) and has its consumer follow. */
async function openTab(name) {
  const started = Date.now();
  const page = env.firstPageUsed ? await env.context.newPage() : env.browser.page;
  env.firstPageUsed = true;
  const activated = activations(env.userDataDir).length;
  await openWorkbench(page, env.server.url, { timeoutMs: UI_TIMEOUT });
  await waitForWorkbenchReady(page, { timeoutMs: UI_TIMEOUT });
  await waitForActivations(env.userDataDir, activated + 1);
  const pid = await env.control.follow(page);
  const opened = { name, page, pid, readyMs: Date.now() - started };
  tabs.set(name, opened);
  report.tabs[name] = { pid, openedAt: new Date(started).toISOString(), readyMs: opened.readyMs };
  log(`tab ${name}: extension host ${pid}, ready in ${opened.readyMs} ms`);
  return opened;
}

async function closeTab(name) {
  const closing = tabs.get(name);
  tabs.delete(name);
  await closing?.page.close().catch(() => {});
  if (report.tabs[name]) report.tabs[name].closedAt = new Date().toISOString();
}

const tabNamed = (name) => {
  const found = tabs.get(name);
  assert.ok(found, `tab ${name} is open`);
  return found;
};

/** Runs a consumer command in every given tab (at `at`, else at once); asserts it worked in each. */
async function run(tabList, command, args, options) {
  const answers = await env.control.ask(tabList.map((t) => t.pid), command, [args], options);
  answers.forEach((answer, index) => {
    assert.equal(answer.status, 'ok', `${command} in tab ${tabList[index].name}: ${JSON.stringify(answer.error)}`);
  });
  return answers;
}

/** getSession in every given tab; each answer: {tab, startedAt, finishedAt, session (no tokens), token}. */
async function getSession(tabList, scopes, { mode = 'silent', at, whileWaiting } = {}) {
  const answers = await run(tabList, GET_SESSION, { scopes, mode, tokenDir: env.tokenDir }, { at, whileWaiting });
  return answers.map((answer, index) => {
    const { session } = answer.value;
    const token = session?.accessTokenFile ? fs.readFileSync(session.accessTokenFile, 'utf8') : undefined;
    return { tab: tabList[index].name, startedAt: answer.startedAt, finishedAt: answer.finishedAt, session, token };
  });
}

async function readProbe(tabList, key) {
  return (await run(tabList, READ_PROBE, { key })).map((answer) => answer.value.value);
}

/** The extension's own log lines in this tab's extension host. */
function extensionLog(tabEntry) {
  const host = env.control.host(tabEntry.pid);
  const file = path.join(path.dirname(host.logDir), EXTENSION_ID, 'OAuth Anywhere.log');
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

const refreshLines = (tabEntry) => extensionLog(tabEntry).filter((line) => /Refreshed the session of /.test(line)).length;

/**
 * Answers VS Code's prompts in a tab as a person would: "Allow" the consumer to sign in, pick the
 * account, and approve a device code at the IdP (its control API plays the person at the IdP's pages).
 * Returns one look's worth of work; `answered` collects what was done.
 */
function promptAnswerer(page, answered) {
  const approved = new Set();
  return async () => {
    if (await dialog(page).isVisible().catch(() => false)) {
      const text = await dialogText(page);
      if (/wants to sign in using OAuth Anywhere/.test(text)) {
        answered.push('allow');
        await clickDialogButton(page, /^Allow$/).catch(() => {});
        return;
      }
    }
    const picker = page.locator(SELECTORS.quickInput);
    const account = picker.locator('.monaco-list-row', { hasText: new RegExp(`^${ACCOUNT_LABEL}$`) }).first();
    if (await account.isVisible().catch(() => false)) {
      answered.push('account picker');
      await account.click({ timeout: 5000 }).catch(() => {});
      return;
    }
    const prompt = toast(page, /Enter code/);
    if (await prompt.isVisible().catch(() => false)) {
      const code = parseDeviceNotification(await toastMessage(prompt));
      if (approved.has(code.userCode)) return;
      approved.add(code.userCode);
      answered.push('device code approved at the IdP');
      await env.idp.control.device(code.userCode, 'approve');
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The IdP

async function idpRequests() {
  return env.idp.control.requests();
}

/** Refresh grants among `requests`, by session (the scope the IdP granted tells them apart). */
function refreshesBySession(requests) {
  const refreshes = requests.filter((r) => r.endpoint === 'token' && r.grantType === 'refresh_token');
  const of = (name) => refreshes.filter((r) => r.status === 200 && (r.scope ?? '').split(' ').includes(name));
  return {
    all: refreshes,
    profile: of('profile'),
    email: of('email'),
    // A refresh the IdP refused: a replayed (already rotated) refresh token answers invalid_grant.
    refused: refreshes.filter((r) => r.status !== 200),
  };
}

/** Waits until the IdP itself calls every token inactive (expired); returns how long that took. */
async function waitUntilExpired(tokens) {
  const started = Date.now();
  for (const token of tokens) {
    for (;;) {
      if (!(await env.idp.control.introspect(token)).active) break;
      if (Date.now() - started > 3 * ACCESS_TOKEN_TTL_S * 1000 + 30_000) throw new Error('an access token never became inactive at the IdP');
      await sleep(250);
    }
  }
  return Date.now() - started;
}

async function userinfoStatus(token) {
  return (await env.idp.userinfo(token)).status;
}

// ---------------------------------------------------------------------------------------------
// Workbench

/**
 * Runs a palette command that answers with a quick pick of its own; resolves with the pick's row
 * that contains `rowText`, once the pick (told by its placeholder) shows it.
 */
async function runCommandToPicker(page, command, placeholder, rowText) {
  const input = page.locator(SELECTORS.quickInputBox);
  const commandRow = page.locator(SELECTORS.quickInputRows).filter({ hasText: command }).first();
  const deadline = Date.now() + UI_TIMEOUT;
  for (;;) {
    await page.locator('.part.editor').first().click({ timeout: 5000 }).catch(() => {});
    await page.keyboard.press('F1');
    await input.fill(`>${command}`);
    if (await commandRow.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false)) break;
    if (Date.now() > deadline) throw new Error(`command "${command}" not found in the palette`);
    await page.keyboard.press('Escape');
  }
  await commandRow.click();
  await page.locator(`${SELECTORS.quickInputBox}[placeholder="${placeholder}"]`).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  const row = page.locator(SELECTORS.quickInputRows).filter({ hasText: rowText }).first();
  await row.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
  return row;
}

async function accountsMenu(tabEntry, wanted, what) {
  await tabEntry.page.bringToFront();
  return waitForAccountsMenu(tabEntry.page, wanted, { what });
}

const accountEntries = (items) => items.filter((item) => ACCOUNT_ENTRY.test(item));

// ---------------------------------------------------------------------------------------------

describe('two code-server tabs sharing two sessions of one provider', () => {
  before(async () => {
    const t0 = Date.now();
    const { timings } = report.setup;
    const provisioned = await provision();
    report.environment = { codeServer: provisioned.codeServerVersion, node: process.version, chromium: provisioned.chromium };
    env.artifactsDir = newArtifactsDir('two-tabs');
    report.artifactsDir = path.relative(REPO_ROOT, env.artifactsDir);
    log(`artifacts: ${env.artifactsDir}`);
    env.work = makeTempDir('two-tabs');
    // A short, private XDG_RUNTIME_DIR: the extension's per-user runtime directory (locks, one socket
    // per window) lands in it as it would on a desktop, apart from other runs on this machine.
    env.runtimeBase = fs.mkdtempSync('/tmp/oa-tabs-');
    env.runtimeDir = path.join(env.runtimeBase, 'oauth-anywhere');
    process.once('exit', () => {
      killAllCodeServers();
      fs.rmSync(env.work, { recursive: true, force: true });
      fs.rmSync(env.runtimeBase, { recursive: true, force: true });
    });
    env.secretLedger = path.join(env.work, 'secret-ledger.jsonl');
    env.userDataDir = path.join(env.work, 'user-data');
    env.control = consumerControl(path.join(env.artifactsDir, 'consumer-control'));
    env.tokenDir = path.join(env.control.dir, 'tokens');
    fs.mkdirSync(env.tokenDir, { recursive: true });

    let t = Date.now();
    const packaged = await packageExtension(path.join(env.work, 'vsix'));
    const consumerVsix = await packageConsumer(path.join(env.work, 'vsix'));
    timings.packageMs = Date.now() - t;

    t = Date.now();
    env.idp = await startIdpProcess({
      deviceInterval: 1,
      accessTokenTtl: ACCESS_TOKEN_TTL_S,
      secretLedger: env.secretLedger,
      onStderr: (chunk) => fs.appendFileSync(path.join(env.artifactsDir, 'idp.log'), chunk),
    });
    timings.idpStartMs = Date.now() - t;
    report.environment.issuer = env.idp.issuer;
    report.environment.accessTokenTtlSeconds = ACCESS_TOKEN_TTL_S;

    const extensionsDir = path.join(env.work, 'extensions');
    t = Date.now();
    await installExtension(packaged.vsix, extensionsDir, { provisioned });
    await installExtension(consumerVsix, extensionsDir, { provisioned });
    timings.installExtensionsMs = Date.now() - t;

    env.server = await startCodeServer({
      provisioned,
      extensionsDir,
      userDataDir: env.userDataDir,
      folder: path.join(env.work, 'workspace'),
      settings: {
        ...DEFAULT_SETTINGS,
        'oauthAnywhere.issuer': env.idp.issuer,
        'oauthAnywhere.clientId': env.idp.clientId,
        'oauthAnywhere.scopes': PROVIDER_SCOPES,
        'oauthAnywhereConsumer.controlDir': env.control.dir,
      },
      defaultSettings: false,
      logFile: path.join(env.artifactsDir, 'code-server.log'),
      scratchDir: path.join(env.work, 'code-server-home'),
      env: { XDG_RUNTIME_DIR: env.runtimeBase },
    });
    log(`code-server at ${env.server.url}`);
    env.browser = await launchChromium({ artifactsDir: env.artifactsDir });
    env.context = env.browser.context;

    await openTab('tab1');
    await openTab('tab2');
    timings.setupTotalMs = Date.now() - t0;
    env.ready = true;
  }, { timeout: 25 * 60_000 });

  after(async () => {
    report.ok = report.steps.every((entry) => entry.status === 'pass' || entry.todo) && !report.artifactsCheck?.leaks?.length;
    await stopWorkbench(env, report);
    if (env.artifactsDir) {
      // The latest run's figures also where the benchmark and the closing note read them.
      fs.mkdirSync(ARTIFACTS_ROOT, { recursive: true });
      fs.writeFileSync(path.join(ARTIFACTS_ROOT, 'two-tabs.json'), `${JSON.stringify(report, null, 2)}\n`);
      log(`report: ${path.join(env.artifactsDir, 'report.json')}`);
    }
    if (env.runtimeBase) fs.rmSync(env.runtimeBase, { recursive: true, force: true });
  }, { timeout: 120_000 });

  step('T1', 'SecretStorage in code-server: a tab never sees another tab\'s write; a new tab loads the last writer\'s whole copy', {}, async ({ shot }) => {
    const tab1 = tabNamed('tab1');
    const tab2 = tabNamed('tab2');
    const stamp = Date.now();
    const keyOfTab1 = `probe.${stamp}.tab1`;
    const keyOfTab2 = `probe.${stamp}.tab2`;
    const model = (report.model = { keys: { keyOfTab1, keyOfTab2 } });

    // (a) Stored in tab 1; tab 2, open all along, reads it again and again.
    const [stored] = await run([tab1], STORE_PROBE, { key: keyOfTab1, value: 'stored in tab 1' });
    const reads = [];
    while (reads.length < MODEL_READS || Date.now() - stored.finishedAt < MODEL_WATCH_MS) {
      const [answer] = await run([tab2], READ_PROBE, { key: keyOfTab1 });
      reads.push({ afterStoreMs: answer.finishedAt - stored.finishedAt, value: answer.value.value });
      await sleep(150);
    }
    const [tab1ReadsBack] = await readProbe([tab1], keyOfTab1);
    const heard = (t, key) => env.control.events(t.pid).filter((event) => event.kind === 'secrets' && event.key === key);
    model.a = {
      tab2Reads: reads.length,
      tab2ReadOverMs: reads.at(-1).afterStoreMs,
      tab2SawIt: reads.filter((read) => read.value !== null).length,
      tab2OnDidChange: heard(tab2, keyOfTab1).length,
      tab1ReadsItBack: tab1ReadsBack,
      tab1OnDidChangeForOwnWrite: heard(tab1, keyOfTab1).length,
    };
    log(`model (a): ${JSON.stringify(model.a)}`);
    assert.equal(tab1ReadsBack, 'stored in tab 1', 'the writing tab reads its own write');
    assert.equal(model.a.tab2SawIt, 0, `tab 2 never sees tab 1's write: ${JSON.stringify(reads)}`);
    assert.equal(model.a.tab2OnDidChange, 0, 'onDidChange never fires in tab 2');

    // (b) A tab opened after the write loads it.
    const late = await openTab('late');
    const [lateSees] = await readProbe([late], keyOfTab1);
    model.b = { lateTabSees: lateSees };
    log(`model (b): ${JSON.stringify(model.b)}`);
    await shot(late, 'late-tab');
    assert.equal(lateSees, 'stored in tab 1', 'a tab opened later sees what was stored before it loaded');

    // (c) Tab 2 (whose copy never had tab 1's key) stores a key of its own; the next tab loads tab 2's copy.
    await run([tab2], STORE_PROBE, { key: keyOfTab2, value: 'stored in tab 2' });
    const newcomer = await openTab('newcomer');
    const [newcomerTab1Key, newcomerTab2Key] = [...(await readProbe([newcomer], keyOfTab1)), ...(await readProbe([newcomer], keyOfTab2))];
    const [tab1StillHas] = await readProbe([tab1], keyOfTab1);
    const [lateStillHas] = await readProbe([late], keyOfTab1);
    model.c = {
      newcomerSeesTab1Key: newcomerTab1Key,
      newcomerSeesTab2Key: newcomerTab2Key,
      tab1StillAnswersItsKey: tab1StillHas,
      lateTabStillAnswersTab1Key: lateStillHas,
    };
    log(`model (c): ${JSON.stringify(model.c)}`);
    await shot(newcomer, 'newcomer-tab');
    assert.equal(newcomerTab2Key, 'stored in tab 2', 'the newcomer sees the last writer\'s key');
    assert.equal(newcomerTab1Key, null, 'the newcomer loads tab 2\'s whole copy, without tab 1\'s key');
    model.matchesMemorySecretStorageNever = true;
    await closeTab('late');
    await closeTab('newcomer');
  });

  step('T2', 'two sessions of one account (asked with profile and with email), both tabs get both', {}, async ({ shot }) => {
    const tab1 = tabNamed('tab1');
    const tab2 = tabNamed('tab2');
    const before = await idpRequests();
    const signIn = (report.signIn = { providerScopes: PROVIDER_SCOPES, promptsAnswered: {} });
    const sessions = {};
    for (const [name, scopes] of Object.entries(SESSIONS)) {
      const answered = [];
      const started = Date.now();
      const [got] = await getSession([tab1], scopes, { mode: 'createIfNone', whileWaiting: promptAnswerer(tab1.page, answered) });
      signIn.promptsAnswered[`tab1-${name}`] = answered;
      signIn[`${name}SignInMs`] = Date.now() - started;
      assert.ok(got.session, `tab 1 got the ${name} session`);
      assert.ok(got.session.scopes.includes(name), `the ${name} session holds ${name}: ${got.session.scopes}`);
      sessions[name] = got.session;
    }
    assert.notEqual(sessions.profile.id, sessions.email.id, 'two sessions');
    assert.equal(sessions.profile.account.id, sessions.email.account.id, 'of one account');
    assert.ok(!sessions.profile.scopes.includes('email') && !sessions.email.scopes.includes('profile'), 'each holds only what it was asked for');
    signIn.sessions = Object.fromEntries(Object.entries(sessions).map(([name, session]) => [name, { id: session.id, scopes: session.scopes, account: session.account }]));

    const deviceSignIns = (await idpRequests()).slice(before.length).filter((r) => r.endpoint === 'device_authorization').length;
    for (const name of Object.keys(SESSIONS)) {
      const answered = [];
      const [got] = await getSession([tab2], SESSIONS[name], { mode: 'createIfNone', whileWaiting: promptAnswerer(tab2.page, answered) });
      signIn.promptsAnswered[`tab2-${name}`] = answered;
      assert.equal(got.session?.id, sessions[name].id, `tab 2 gets tab 1's ${name} session`);
      assert.equal(await userinfoStatus(got.token), 200, `tab 2's ${name} token is valid`);
    }
    const requests = (await idpRequests()).slice(before.length);
    signIn.deviceSignIns = requests.filter((r) => r.endpoint === 'device_authorization').length;
    assert.equal(signIn.deviceSignIns, 2, 'two device sign-ins (one per session), none for tab 2');
    assert.equal(deviceSignIns, signIn.deviceSignIns, 'tab 2 started no sign-in');

    for (const t of [tab1, tab2]) {
      const items = await accountsMenu(t, (entries) => accountEntries(entries).length === 1, 'the account once');
      signIn[`accountsMenu-${t.name}`] = items;
      await shot(t, 'accounts-menu');
      await closeMenus(t.page);
    }
  });

  step('T3', `${ROUNDS} rounds: tokens expire, both tabs ask for both sessions at once: one refresh per session, no replay`, { needs: ['T2'] }, async () => {
    const both = [tabNamed('tab1'), tabNamed('tab2')];
    let current = await Promise.all(Object.values(SESSIONS).map(async (scopes) => (await getSession([both[0]], scopes))[0].token));
    let since = (await idpRequests()).length;
    for (let round = 1; round <= ROUNDS; round++) {
      const waitedMs = await waitUntilExpired(current);
      const refreshLinesBefore = both.map(refreshLines);
      const at = Date.now() + SAME_MOMENT_LEAD_MS;
      const [profile, email] = await Promise.all(Object.values(SESSIONS).map((scopes) => getSession(both, scopes, { at })));
      const requests = (await idpRequests()).slice(since);
      since += requests.length;
      const refreshes = refreshesBySession(requests);
      const answers = { profile, email };
      const figures = {
        round,
        waitedForExpiryMs: waitedMs,
        askedAt: new Date(at).toISOString(),
        startSkewMs: Math.max(...profile.concat(email).map((a) => a.startedAt)) - Math.min(...profile.concat(email).map((a) => a.startedAt)),
        refreshes: { profile: refreshes.profile.length, email: refreshes.email.length },
        refreshesBeforeAsking: refreshes.all.filter((r) => r.at < at).length,
        replays: refreshes.refused.length,
        refreshedByTab: Object.fromEntries(both.map((t, index) => [t.name, refreshLines(t) - refreshLinesBefore[index]])),
        idpRefreshAfterAskingMs: { profile: refreshes.profile.map((r) => r.at - at), email: refreshes.email.map((r) => r.at - at) },
        servedAfterAskingMs: {},
        servedAfterIdpRefreshMs: {},
        sameTokenInBothTabs: {},
        userinfo: {},
      };
      for (const [name, pair] of Object.entries(answers)) {
        figures.servedAfterAskingMs[name] = Object.fromEntries(pair.map((a) => [a.tab, a.finishedAt - at]));
        const refreshedAt = refreshes[name][0]?.at;
        if (refreshedAt) figures.servedAfterIdpRefreshMs[name] = Object.fromEntries(pair.map((a) => [a.tab, a.finishedAt - refreshedAt]));
        figures.sameTokenInBothTabs[name] = pair[0].session?.accessTokenSha256 === pair[1].session?.accessTokenSha256;
        figures.userinfo[name] = Object.fromEntries(await Promise.all(pair.map(async (a) => [a.tab, a.token ? await userinfoStatus(a.token) : 'no session'])));
      }
      report.rounds.push(figures);
      log(`round ${round}: ${JSON.stringify({ refreshes: figures.refreshes, replays: figures.replays, refreshedByTab: figures.refreshedByTab, servedAfterAskingMs: figures.servedAfterAskingMs })}`);

      assert.equal(figures.replays, 0, `round ${round}: no refresh refused by the IdP: ${JSON.stringify(refreshes.refused)}`);
      assert.equal(figures.refreshesBeforeAsking, 0, `round ${round}: nothing refreshed before the consumers asked (the round tests the race)`);
      for (const name of Object.keys(SESSIONS)) {
        for (const a of answers[name]) assert.ok(a.session, `round ${round}: ${a.tab} was served the ${name} session`);
        assert.equal(figures.refreshes[name], 1, `round ${round}: one refresh of the ${name} session across both tabs`);
        assert.ok(figures.sameTokenInBothTabs[name], `round ${round}: both tabs were served the one rotated ${name} token`);
        for (const [tabName, status] of Object.entries(figures.userinfo[name])) assert.equal(status, 200, `round ${round}: userinfo accepts ${tabName}'s ${name} token`);
      }
      current = [profile[0].token, email[0].token];
    }
    env.currentTokens = { profile: current[0], email: current[1] };
  });

  step('T4', 'hand-over: tab 1 alone refreshes, tab 2 serves the rotated token without refreshing', { needs: ['T2'] }, async () => {
    const tab1 = tabNamed('tab1');
    const tab2 = tabNamed('tab2');
    if (!env.currentTokens) env.currentTokens = { profile: (await getSession([tab1], SESSIONS.profile))[0].token };
    await run([tab2], WATCH_SESSIONS, { scopeSets: [SESSIONS.profile] });
    await waitUntilExpired([env.currentTokens.profile]);
    const since = (await idpRequests()).length;
    const [got] = await getSession([tab1], SESSIONS.profile);
    const rotated = got.session.accessTokenSha256;
    const heard = await waitForEvent(tab2, got.startedAt, (event) => event.snapshots[0]?.fingerprint === rotated, 'tab 2 serving tab 1\'s rotated token');
    await run([tab2], WATCH_SESSIONS, { scopeSets: [] });
    const [tab2Got] = await getSession([tab2], SESSIONS.profile);
    const refreshes = refreshesBySession((await idpRequests()).slice(since));
    const refreshedAt = refreshes.profile[0]?.at;
    report.handOver = {
      profileRefreshes: refreshes.profile.length,
      emailRefreshes: refreshes.email.length,
      replays: refreshes.refused.length,
      tab1ServedAfterIdpRefreshMs: got.finishedAt - refreshedAt,
      tab2HeardAfterIdpRefreshMs: heard.at - refreshedAt,
      tab2ServedRotatedTokenAfterIdpRefreshMs: heard.snapshots[0].at - refreshedAt,
      tab2HeardRelativeToTab1ServedMs: heard.at - got.finishedAt,
      note: 'times of the consumers\' extension hosts and the IdP, one machine clock; "heard" is when tab 2\'s consumer got onDidChangeSessions, "served" when its silent getSession answered with the rotated token',
    };
    log(`hand-over: ${JSON.stringify(report.handOver)}`);
    assert.equal(refreshes.profile.length, 1, 'one refresh of the profile session, by tab 1');
    assert.equal(refreshes.refused.length, 0, 'no refresh refused');
    assert.equal(tab2Got.session.accessTokenSha256, rotated, 'tab 2 serves tab 1\'s rotated token');
    assert.equal(await userinfoStatus(tab2Got.token), 200);
    env.currentTokens.profile = tab2Got.token;
  });

  step('T5', 'sign out the email session in tab 1: tab 2 drops it within a second; a few seconds later neither tab has it', { needs: ['T2'] }, async ({ shot }) => {
    const tab1 = tabNamed('tab1');
    const tab2 = tabNamed('tab2');
    const figures = (report.signOut = { how: '"OAuth Anywhere: Sign Out" in tab 1, the email session picked from its list' });
    await run([tab1, tab2], WATCH_SESSIONS, { scopeSets: [SESSIONS.email] });
    const since = (await idpRequests()).length;

    await tab1.page.bringToFront();
    const emailRow = await runCommandToPicker(tab1.page, 'OAuth Anywhere: Sign Out', 'Which account do you want to sign out?', 'email');
    await shot(tab1, 'sign-out-picker');
    figures.picker = await tab1.page.locator(SELECTORS.quickInputRows).evaluateAll((rows) => rows.map((row) => row.getAttribute('aria-label')));
    const clickedAt = Date.now();
    await emailRow.click();
    const dropped = (event) => event.snapshots[0] && event.snapshots[0].fingerprint === null;
    const [inTab1, inTab2] = await Promise.all([tab1, tab2].map((t) => waitForEvent(t, clickedAt, dropped, `${t.name} dropping the email session`)));
    figures.clickToTab1DroppedMs = inTab1.at - clickedAt;
    figures.clickToTab2DroppedMs = inTab2.at - clickedAt;
    figures.tab2DroppedAfterTab1Ms = inTab2.at - inTab1.at;
    await toast(tab1.page, /Signed out/).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await shot(tab1, 'signed-out');
    log(`sign-out: ${JSON.stringify(figures)}`);
    // From the click that signs out in tab 1, so tab 1's own sign-out work counts against the bound too.
    assert.ok(
      figures.clickToTab2DroppedMs < SIGN_OUT_REACHES_OTHER_TAB_MS,
      `tab 2 dropped the session ${figures.clickToTab2DroppedMs} ms after the sign-out was clicked in tab 1 (${figures.tab2DroppedAfterTab1Ms} ms after tab 1 dropped it; bound ${SIGN_OUT_REACHES_OTHER_TAB_MS} ms)`,
    );
    const revocations = (await idpRequests()).slice(since).filter((r) => r.endpoint === 'revocation');
    figures.revocations = revocations.map((r) => r.status);
    assert.ok(revocations.length >= 1 && revocations.every((r) => r.status === 200), `revoked at the IdP: ${JSON.stringify(figures.revocations)}`);

    // It never comes back: asked again after a few seconds...
    await sleep(NEVER_COMES_BACK_AFTER_MS);
    const later = await getSession([tab1, tab2], SESSIONS.email);
    figures.emailAfterAFewSeconds = Object.fromEntries(later.map((a) => [a.tab, a.session?.id ?? null]));
    assert.deepEqual(figures.emailAfterAFewSeconds, { tab1: null, tab2: null }, 'the email session stays gone in both tabs');
    const profileLater = await getSession([tab1, tab2], SESSIONS.profile);
    figures.profileAfterAFewSeconds = Object.fromEntries(profileLater.map((a) => [a.tab, a.session?.id ?? null]));
    for (const a of profileLater) assert.equal(a.session?.id, report.signIn.sessions.profile.id, `${a.tab} still has the profile session`);
    env.currentTokens = { ...env.currentTokens, profile: profileLater[1].token };
    env.signedOutAt = inTab2.at;
  });

  step('T6', 'both tabs\' Accounts menus still show the account, whose profile session remains', {
    needs: ['T5'],
  }, async ({ shot }) => {
    const menus = {};
    for (const t of [tabNamed('tab1'), tabNamed('tab2')]) {
      // The sign-out settled seconds ago (T5): the menu is read as it is, not waited for.
      menus[t.name] = await accountsMenu(t, () => true, 'any entries');
      await shot(t, 'accounts-menu-after-sign-out');
      await closeMenus(t.page);
    }
    report.signOut.accountsMenusAfterSignOut = menus;
    for (const [name, items] of Object.entries(menus)) assert.equal(accountEntries(items).length, 1, `${name}'s Accounts menu shows the account: ${JSON.stringify(items)}`);
  });

  step('T7', 'the signed-out session never comes back: not after tab 2 writes its own copy of storage, not in a third tab opened then', { needs: ['T5'] }, async ({ shot }) => {
    const tab1 = tabNamed('tab1');
    const tab2 = tabNamed('tab2');
    const figures = report.signOut;
    // Tab 2 writes its whole copy of storage: a secret of the consumer's, then a refresh of its own.
    await run([tab2], STORE_PROBE, { key: `probe.${Date.now()}.after-sign-out`, value: 'stored in tab 2 after the sign-out' });
    await run([tab1], WATCH_SESSIONS, { scopeSets: [SESSIONS.email, SESSIONS.profile] });
    await waitUntilExpired([env.currentTokens.profile]);
    // From here on tokens outlive a tab's start-up: the tabs opened next must serve tab 2's token as it is.
    await env.idp.control.set({ accessTokenTtl: LATER_ACCESS_TOKEN_TTL_S });
    const beforeTab2Refresh = (await idpRequests()).length;
    const [refreshedByTab2] = await getSession([tab2], SESSIONS.profile);
    const rotated = refreshedByTab2.session.accessTokenSha256;
    const tab1Heard = await waitForEvent(tab1, refreshedByTab2.startedAt, (event) => event.snapshots[1]?.fingerprint === rotated, 'tab 1 serving tab 2\'s rotated token');
    const tab2Refreshes = refreshesBySession((await idpRequests()).slice(beforeTab2Refresh));
    figures.tab2Refresh = {
      profileRefreshes: tab2Refreshes.profile.length,
      replays: tab2Refreshes.refused.length,
      tab1HeardAfterIdpRefreshMs: tab1Heard.at - tab2Refreshes.profile[0]?.at,
    };
    assert.equal(tab2Refreshes.profile.length, 1, 'tab 2 refreshed the profile session once');
    env.currentTokens.profile = refreshedByTab2.token;
    const afterStores = await getSession([tab1, tab2], SESSIONS.email);
    figures.emailAfterTab2Stored = Object.fromEntries(afterStores.map((a) => [a.tab, a.session?.id ?? null]));
    assert.deepEqual(figures.emailAfterTab2Stored, { tab1: null, tab2: null }, 'the email session stays gone after tab 2\'s writes');

    // A third tab, opened now, sees the profile session with tab 2's newest token and no email session.
    const beforeThird = (await idpRequests()).length;
    const third = await openTab('third');
    const [thirdProfile] = await getSession([third], SESSIONS.profile);
    const [thirdEmail] = await getSession([third], SESSIONS.email);
    const thirdRefreshes = refreshesBySession((await idpRequests()).slice(beforeThird));
    figures.thirdTab = {
      profile: thirdProfile.session?.id ?? null,
      profileTokenIsTab2s: thirdProfile.session?.accessTokenSha256 === rotated,
      email: thirdEmail.session?.id ?? null,
      refreshes: thirdRefreshes.all.length,
    };
    log(`third tab: ${JSON.stringify(figures.thirdTab)}`);
    assert.equal(thirdProfile.session?.id, report.signIn.sessions.profile.id, 'the third tab has the profile session');
    assert.ok(figures.thirdTab.profileTokenIsTab2s, 'the third tab serves tab 2\'s newest token');
    assert.equal(figures.thirdTab.refreshes, 0, 'the third tab refreshed nothing');
    assert.equal(thirdEmail.session, null, 'the third tab has no email session');
    assert.equal(await userinfoStatus(thirdProfile.token), 200, 'the third tab\'s profile token is valid');
    const thirdItems = await accountsMenu(third, (entries) => accountEntries(entries).length === 1, 'the account once');
    figures.thirdTabAccountsMenu = thirdItems;
    await shot(third, 'accounts-menu');
    await closeMenus(third.page);

    const atTheEnd = await getSession([tab1, tab2], SESSIONS.email);
    figures.emailAfterThirdTab = Object.fromEntries(atTheEnd.map((a) => [a.tab, a.session?.id ?? null]));
    assert.deepEqual(figures.emailAfterThirdTab, { tab1: null, tab2: null }, 'still gone after the third tab opened');
    const cameBack = [tab1, tab2].flatMap((t) => env.control.events(t.pid).filter((event) => event.kind === 'sessions' && event.at > env.signedOutAt && event.snapshots[0]?.fingerprint));
    assert.deepEqual(cameBack, [], 'no change event in either tab served the email session again');
  });

  step('T8', 'the runtime directory: 0700, no lock left held, nothing secret in any file', { needs: ['T2'] }, async () => {
    const dir = env.runtimeDir;
    const mode = fs.statSync(dir).mode & 0o777;
    const entries = fs.readdirSync(dir);
    const files = entries.filter((name) => fs.lstatSync(path.join(dir, name)).isFile());
    const secrets = readSecretLedger(env.secretLedger);
    const leaks = issuedSecretsIn(files.map((name) => path.join(dir, name)), secrets, dir);
    report.runtimeDirectory = {
      mode: mode.toString(8),
      sockets: entries.filter((name) => /^peer-.*\.sock$/.test(name)).length,
      openTabs: tabs.size,
      locksHeld: entries.filter((name) => name.endsWith('.lock')).length,
      revisionMarks: entries.filter((name) => name.endsWith('.revision')).length,
      files: files.length,
      secretsChecked: secrets.length,
      leaks,
    };
    log(`runtime directory: ${JSON.stringify(report.runtimeDirectory)}`);
    assert.equal(mode, 0o700);
    assert.ok(report.runtimeDirectory.sockets >= tabs.size, 'a socket for every open tab');
    assert.equal(report.runtimeDirectory.locksHeld, 0, 'no refresh lock left held');
    assert.ok(secrets.length > 0, 'the IdP ledger recorded secrets');
    assert.deepEqual(leaks, [], 'no token in a file of the runtime directory');
  });

  step('T9', 'every tab closed, then a new one: SecretStorage alone gives it the remaining session with the newest token', { needs: ['T7'] }, async ({ shot }) => {
    const closed = [...tabs.values()];
    await env.context.newPage(); // a blank page keeps the browser (and its storage) while no workbench is open
    for (const t of closed) await closeTab(t.name);
    // code-server ends a tab's extension host once the tab stayed away longer than its reconnection
    // grace time (10 s here); until then that host would still answer on its socket.
    const gone = await waitForExit(closed.map((t) => t.pid));
    const before = (await idpRequests()).length;
    const alone = await openTab('alone');
    const [profile] = await getSession([alone], SESSIONS.profile);
    const [email] = await getSession([alone], SESSIONS.email);
    const refreshes = refreshesBySession((await idpRequests()).slice(before));
    const figures = (report.aloneTab = {
      extensionHostsGoneAfterMs: gone,
      profile: profile.session?.id ?? null,
      profileTokenIsTheNewest: profile.session?.accessTokenSha256 === fingerprintOf(env.currentTokens.profile),
      email: email.session?.id ?? null,
      refreshes: refreshes.all.length,
    });
    log(`a tab alone: ${JSON.stringify(figures)}`);
    await shot(alone, 'workbench');
    assert.equal(figures.profile, report.signIn.sessions.profile.id, 'the profile session is there');
    assert.ok(figures.profileTokenIsTheNewest, 'with the newest token, from storage alone');
    assert.equal(figures.refreshes, 0, 'nothing refreshed');
    assert.equal(figures.email, null, 'the signed-out session is not');
    assert.equal(await userinfoStatus(profile.token), 200);
  });

  it('artifacts: no issued secret in any file but *.token', async () => {
    assert.ok(env.artifactsDir, 'set-up made an artifacts folder');
    if (env.userDataDir) copyExtensionLogs(env.userDataDir, env.artifactsDir);
    const secrets = readSecretLedger(env.secretLedger);
    const files = [...walkFiles(env.artifactsDir)].filter((file) => !file.endsWith('.token') && !file.endsWith('.png'));
    const leaks = issuedSecretsIn(files, secrets, env.artifactsDir);
    report.artifactsCheck = { secretsIssued: secrets.length, filesScanned: files.length, leaks };
    assert.deepEqual(leaks, []);
  });
});

/** Waits for a session change event in the tab after `since` that satisfies `wanted`; returns it. */
async function waitForEvent(tabEntry, since, wanted, what) {
  const deadline = Date.now() + UI_TIMEOUT;
  for (;;) {
    const found = env.control.events(tabEntry.pid).find((event) => event.kind === 'sessions' && event.at >= since && wanted(event));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no change event in ${tabEntry.name} showed ${what} within ${UI_TIMEOUT} ms`);
    await sleep(50);
  }
}

/** Which of the IdP's secrets stand in which of these files (named relative to `root`). */
function issuedSecretsIn(files, secrets, root) {
  const leaks = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const secret of secrets) if (secret.value.length >= 8 && text.includes(secret.value)) leaks.push({ file: path.relative(root, file), kind: secret.kind });
  }
  return leaks;
}

/** Waits until none of these processes runs any more; returns how long that took. */
async function waitForExit(pids) {
  const started = Date.now();
  const running = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  while (pids.some(running)) {
    if (Date.now() - started > UI_TIMEOUT) throw new Error(`extension hosts ${pids.filter(running).join(', ')} still run ${UI_TIMEOUT} ms after their tabs closed`);
    await sleep(250);
  }
  return Date.now() - started;
}

/** The consumer's fingerprint of an access token (consumer/extension.js). */
function fingerprintOf(token) {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}
