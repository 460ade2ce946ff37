// Test-only consumer of the 'oauth-anywhere' authentication provider.
// Plain CommonJS, no build step. Every command run writes a JSON report
// (atomically: temp file + rename) to the file named by the setting
// `oauthAnywhereConsumer.reportFile`: first with status "pending", then
// "ok" or "error". The report never holds a token: the access token goes to
// a file of its own next to it, `<reportFile>.access.token` (the artifacts
// scan for leaked secrets skips `*.token` files), so a test can check it at
// the identity provider; the report names that file and a short SHA-256
// fingerprint of the token, to tell tokens apart.
//
// Follow mode drives several windows at once (tabs of one code-server, each with its own extension
// host): see follow.js.
'use strict';

const vscode = require('vscode');
const nodeCrypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { registerFollowMode } = require('./follow');

const PROVIDER_ID = 'oauth-anywhere';
const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

let runCounter = 0;

function config() {
  return vscode.workspace.getConfiguration('oauthAnywhereConsumer');
}

function reportFile() {
  const file = config().get('reportFile');
  return typeof file === 'string' && file.trim() ? file.trim() : undefined;
}

function scopes() {
  const value = config().get('scopes');
  return Array.isArray(value) && value.length ? value.map(String) : DEFAULT_SCOPES;
}

function writeFileAtomic(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // A token's temporary file ends in .token too, like the file it becomes.
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp${file.endsWith('.token') ? '.token' : ''}`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function writeJsonAtomic(file, value) {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

function writeReport(report) {
  const file = reportFile();
  if (!file) return;
  try {
    writeJsonAtomic(file, report);
  } catch (err) {
    console.error('[oauth-anywhere consumer] cannot write report', err);
  }
}

function appendEvent(event) {
  const file = reportFile();
  if (!file) return;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(`${file}.events.jsonl`, JSON.stringify(event) + '\n');
  } catch (err) {
    console.error('[oauth-anywhere consumer] cannot write event', err);
  }
}

function defaultTokenFile() {
  const file = reportFile();
  return file ? `${file}.access.token` : undefined;
}

function fingerprint(token) {
  return nodeCrypto.createHash('sha256').update(token).digest('hex').slice(0, 16);
}

/**
 * The session without its tokens; the access token is written to its own `.token` file (by default
 * `<reportFile>.access.token`).
 */
function describeSession(session, tokenFile = defaultTokenFile()) {
  if (!session) return null;
  let accessTokenFile = null;
  if (tokenFile) {
    accessTokenFile = tokenFile;
    writeFileAtomic(accessTokenFile, session.accessToken);
  }
  return {
    id: session.id,
    accessTokenFile,
    accessTokenSha256: fingerprint(session.accessToken),
    accessTokenLength: session.accessToken.length,
    hasIdToken: typeof session.idToken === 'string' && session.idToken.length > 0,
    account: { id: session.account.id, label: session.account.label },
    scopes: Array.from(session.scopes),
  };
}

function describeError(err) {
  if (err instanceof Error) {
    return { name: err.name, message: err.message, code: err.code, stack: err.stack };
  }
  return { name: typeof err, message: String(err) };
}

async function run(command, options) {
  const run = ++runCounter;
  const requestedScopes = scopes();
  const startedAt = new Date();
  const base = {
    command,
    run,
    provider: PROVIDER_ID,
    scopes: requestedScopes,
    options,
    env: {
      remoteName: vscode.env.remoteName ?? null,
      uiKind: vscode.env.uiKind,
      appHost: vscode.env.appHost,
      vscodeVersion: vscode.version,
      node: process.version,
    },
    startedAt: startedAt.toISOString(),
  };
  writeReport({ ...base, status: 'pending' });
  try {
    const session = await vscode.authentication.getSession(PROVIDER_ID, requestedScopes, options);
    const finishedAt = new Date();
    const report = {
      ...base,
      status: 'ok',
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt - startedAt,
      session: describeSession(session),
    };
    writeReport(report);
    vscode.window
      .showInformationMessage(session ? `Consumer ${command}: session for ${session.account.label} (run ${run}).` : `Consumer ${command}: no session (run ${run}).`)
      .then(undefined, () => {});
    return report;
  } catch (err) {
    const finishedAt = new Date();
    const report = {
      ...base,
      status: 'error',
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt - startedAt,
      error: describeError(err),
    };
    writeReport(report);
    vscode.window.showErrorMessage(`Consumer ${command} failed (run ${run}): ${report.error.message}`).then(undefined, () => {});
    return report;
  }
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('oauthAnywhereConsumer.getSession', () =>
      run('getSession', { createIfNone: true }),
    ),
    vscode.commands.registerCommand('oauthAnywhereConsumer.getSessionSilent', () =>
      run('getSessionSilent', { silent: true }),
    ),
    vscode.authentication.onDidChangeSessions((e) => {
      if (e.provider.id !== PROVIDER_ID) return;
      appendEvent({ at: new Date().toISOString(), provider: e.provider.id });
    }),
    ...registerFollowMode(context, { providerId: PROVIDER_ID, describeSession, fingerprint, describeError, writeJsonAtomic }),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
