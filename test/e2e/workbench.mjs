// Workbench steps the scenarios and the sandbox check share, on top of browser.mjs: the Accounts
// menu, VS Code's own dialogs and pickers, notifications, and the extension's log files that
// code-server writes under its user-data dir.

import fs from 'node:fs';
import path from 'node:path';

import { SELECTORS, menuItems, openAccountsMenu } from './browser.mjs';
import { EXTENSION_ID, extensionLogFiles, extensionLogLines, walkFiles } from './runRecords.mjs';

export { EXTENSION_ID, extensionLogFiles, extensionLogLines };

export const ACCOUNT_LABEL = 'demo';
export const ACCOUNT_ENTRY = /^demo \(OAuth Anywhere\)$/;
export const SIGN_IN_ENTRY = /^Sign in with OAuth Anywhere/;
export const SIGN_IN_PROMPT = /Enter code|Waiting for you to sign in/;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens the Accounts menu until its entries satisfy `wanted` (VS Code updates the menu when the
 * provider reports changes, so a menu opened too early is closed and opened again). Leaves the
 * menu open on success (for a screenshot) and returns its entries.
 */
export async function waitForAccountsMenu(page, wanted, { timeoutMs = 60_000, what = 'the wanted entries' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await closeMenus(page); // a menu still open would swallow the click on the Accounts icon
    await openAccountsMenu(page, { timeoutMs: Math.max(5000, deadline - Date.now()) });
    await sleep(300);
    const items = (await menuItems(page)).filter(Boolean);
    if (wanted(items)) return items;
    if (Date.now() > deadline) {
      throw new Error(`the Accounts menu did not show ${what} within ${timeoutMs} ms; it shows ${JSON.stringify(items)}`);
    }
    await sleep(700);
  }
}

export async function closeMenus(page) {
  for (let i = 0; i < 3 && (await page.locator('.monaco-menu').first().isVisible().catch(() => false)); i++) {
    await page.keyboard.press('Escape');
    await sleep(150);
  }
}

/**
 * Clicks an entry of the open Accounts menu or of its open submenu. A submenu is rendered inside
 * its parent's item, so the label itself is clicked, the innermost match first.
 */
export async function clickMenuEntry(page, label, { timeoutMs = 15_000 } = {}) {
  await page.locator('.monaco-menu .action-item .action-label').filter({ hasText: label }).last().click({ timeout: timeoutMs });
}

/**
 * Opens the Accounts menu and clicks the entry matching `label`, opening the menu again when
 * something (an editor opening at startup, a notification) closed it in between.
 */
export async function chooseFromAccountsMenu(page, label, { timeoutMs = 60_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await waitForAccountsMenu(page, (items) => items.some((i) => label.test(i)), { timeoutMs: Math.max(5000, deadline - Date.now()), what: String(label) });
    try {
      await clickMenuEntry(page, label, { timeoutMs: 3000 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await closeMenus(page);
    }
  }
}

/** Hovers an entry of the open menu so that its submenu opens. */
export async function hoverMenuEntry(page, label, { timeoutMs = 15_000 } = {}) {
  await page.locator('.monaco-menu .action-item').filter({ has: page.locator('.action-label', { hasText: label }) }).first().hover({ timeout: timeoutMs });
}

/** The visible notification toast whose message matches, as a locator. */
export function toast(page, pattern) {
  return page
    .locator(SELECTORS.notificationToast)
    .filter({ has: page.locator('.notification-list-item-message', { hasText: pattern }) })
    .first();
}

export async function toastMessage(toastLocator) {
  return ((await toastLocator.locator('.notification-list-item-message').textContent()) ?? '').trim();
}

/** Texts of every visible toast. */
export async function visibleToasts(page) {
  return (await page.locator(`${SELECTORS.notificationToast} .notification-list-item-message`).allTextContents()).map((t) => t.trim());
}

/** The visible modal dialog (VS Code's own), if any. */
export function dialog(page) {
  return page.locator('.monaco-dialog-box').first();
}

export async function dialogText(page) {
  return ((await dialog(page).locator('.dialog-message-row').textContent().catch(() => '')) ?? '').trim();
}

export async function clickDialogButton(page, label, { timeoutMs = 30_000 } = {}) {
  await dialog(page).locator('.dialog-buttons .monaco-button', { hasText: label }).first().click({ timeout: timeoutMs });
}

/** Parses the device-code notification: code, verification URL, issuer and client named in it. */
export function parseDeviceNotification(text) {
  const match = /Enter code (\S+) at (\S+?)\s+—/.exec(text);
  if (!match) throw new Error(`no device code in the notification "${text}"`);
  const requestedBy = /Requested by client "([^"]+)" of (\S+?);/.exec(text);
  return { userCode: match[1], verificationUri: match[2], clientId: requestedBy?.[1], issuer: requestedBy?.[2] };
}

const REGISTERED = /^(\S+ \S+) \[info\] Provider registered ([\d.]+) ms after activate\(\); (\d+) SecretStorage reads during activation\./;

/** The activation lines the extension logs, parsed; one per extension host start. */
export function activations(userDataDir) {
  return extensionLogLines(userDataDir)
    .map((line) => REGISTERED.exec(line))
    .filter(Boolean)
    .map((m) => ({ at: m[1], registeredMs: Number(m[2]), secretStorageReads: Number(m[3]) }));
}

/** Waits until the extension has logged `count` activations in total. */
export async function waitForActivations(userDataDir, count, { timeoutMs = 90_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = activations(userDataDir);
    if (found.length >= count) return found;
    if (Date.now() > deadline) {
      throw new Error(`OAuth Anywhere did not log its activation #${count} within ${timeoutMs} ms (log files: ${JSON.stringify(extensionLogFiles(userDataDir))})`);
    }
    await sleep(250);
  }
}

/**
 * When VS Code asked the extension host to activate OAuth Anywhere, per remote extension host log
 * ("ExtensionService#_doActivateExtension oauth-anywhere.oauth-anywhere ..."), as local time text.
 */
export function activationRequests(userDataDir) {
  const times = [];
  for (const file of walkFiles(path.join(userDataDir, 'logs'))) {
    if (path.basename(file) !== 'remoteexthost.log') continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^(\S+ \S+) \[info\] ExtensionService#_doActivateExtension oauth-anywhere\.oauth-anywhere,/.exec(line);
      if (m) times.push(m[1]);
    }
  }
  return times.sort();
}

/** Milliseconds between two log time stamps ("2026-11-23 01:02:13.336", same clock). */
export function logTimeDiffMs(from, to) {
  const parse = (text) => new Date(text.replace(' ', 'T')).getTime();
  return parse(to) - parse(from);
}
