// What the end-to-end test files record the same way: files under a folder, the IdP's request
// counts and secret ledger, and the extension's own log files.

import fs from 'node:fs';
import path from 'node:path';

export const EXTENSION_ID = 'oauth-anywhere.oauth-anywhere';

/** Every file below `dir`, depth first; an unreadable or missing folder yields nothing. */
export function* walkFiles(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walkFiles(full);
    else yield full;
  }
}

/** Per-endpoint request counts that changed between two IdP snapshots. */
export function diffCounts(before, after) {
  const diff = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const d = (after[key] ?? 0) - (before[key] ?? 0);
    if (d) diff[key] = d;
  }
  return diff;
}

/** The secrets an IdP recorded in its ledger file ({kind, value} per line); none when it has none. */
export function readSecretLedger(file) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  } catch {
    return [];
  }
}

/**
 * Every "OAuth Anywhere" log file code-server wrote under userDataDir (one per extension host:
 * logs/<start time>/exthost<N>/oauth-anywhere.oauth-anywhere/OAuth Anywhere.log), oldest first.
 */
export function extensionLogFiles(userDataDir) {
  const found = [...walkFiles(path.join(userDataDir, 'logs'))].filter((file) => path.basename(path.dirname(file)) === EXTENSION_ID && file.endsWith('.log'));
  return found.sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs || a.localeCompare(b));
}

/** All lines of the extension's logs, in file order. */
export function extensionLogLines(userDataDir) {
  return extensionLogFiles(userDataDir).flatMap((file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean));
}

/** The newest line of the extension's logs that matches `pattern`. */
export function lastExtensionLogLine(userDataDir, pattern) {
  return extensionLogLines(userDataDir).filter((line) => pattern.test(line)).at(-1);
}

/** Copies the extension's log files into `<artifactsDir>/extension-logs`; returns their new paths. */
export function copyExtensionLogs(userDataDir, artifactsDir) {
  const target = path.join(artifactsDir, 'extension-logs');
  fs.mkdirSync(target, { recursive: true });
  return extensionLogFiles(userDataDir).map((file) => {
    const host = path.basename(path.dirname(path.dirname(file)));
    const start = path.basename(path.dirname(path.dirname(path.dirname(file))));
    const copy = path.join(target, `${start}-${host}-${path.basename(file)}`);
    fs.copyFileSync(file, copy);
    return copy;
  });
}

/**
 * Hands this run's secrets and the extension's log lines to the suite-wide ledgers
 * (OAUTH_ANYWHERE_SECRET_LEDGER, OAUTH_ANYWHERE_LOG_LEDGER), which the secret-leak scan reads last.
 */
export function passLedgersOn(secretLedger, userDataDir) {
  const suiteSecrets = process.env.OAUTH_ANYWHERE_SECRET_LEDGER;
  if (suiteSecrets && secretLedger && fs.existsSync(secretLedger)) fs.appendFileSync(suiteSecrets, fs.readFileSync(secretLedger));
  const suiteLogs = process.env.OAUTH_ANYWHERE_LOG_LEDGER;
  if (suiteLogs && userDataDir) {
    const lines = extensionLogLines(userDataDir);
    if (lines.length) fs.appendFileSync(suiteLogs, `${lines.join('\n')}\n`);
  }
}

/**
 * Every secret the IdP issued that an artifacts file holds (`keep(file)` false skips a file, e.g. the
 * `*.token` files that hold a token on purpose; screenshots are never read). Secrets under 8
 * characters are too short to search for. Returns the leaks and how many files were read.
 */
export function artifactLeaks(artifactsDir, secrets, keep = () => true) {
  const leaks = [];
  let filesScanned = 0;
  for (const file of walkFiles(artifactsDir)) {
    if (file.endsWith('.png') || !keep(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    filesScanned++;
    for (const secret of secrets) if (secret.value.length >= 8 && text.includes(secret.value)) leaks.push({ file: path.relative(artifactsDir, file), kind: secret.kind });
  }
  return { leaks, filesScanned };
}

/**
 * Looks for every issued secret in every file of the artifacts folder, except screenshots and the
 * `*.token` files that hold a token on purpose: {secretsIssued, filesScanned, leaks}.
 */
export function scanArtifacts(artifactsDir, secrets) {
  return { secretsIssued: secrets.length, ...artifactLeaks(artifactsDir, secrets, (file) => !file.endsWith('.token')) };
}
