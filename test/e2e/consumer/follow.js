// Follow mode of the test consumer: lets an end-to-end test drive several windows at once (tabs of
// one code-server, each a window with its own extension host) and have them ask at the same moment,
// which a command palette typed into one tab after the other cannot do.
//
// "OAuth Anywhere Consumer: Follow Test Requests" (oauthAnywhereConsumer.follow) makes this extension
// host follow the folder named by the setting `oauthAnywhereConsumer.controlDir`:
//   hosts/<pid>.json         written when following starts: {pid, startedAt, logDir}; the test tells its
//                            tabs apart by it (one extension host process per tab, logging to its own folder)
//   requests/<id>.json       written by the test: {id, to: [pid, ...] | "all", at?: epoch ms, command, args?};
//                            every following host it is meant for runs `command(...args)` once, at `at`
//   results/<id>.<pid>.json  {id, pid, command, startedAt, finishedAt, status: "ok" | "error", value | error}
//   events/<pid>.jsonl       one line per change of the provider's sessions ({kind: "sessions", at,
//                            snapshots}) and per change of this extension's own secrets ({kind: "secrets", at, key})
//
// The commands it is meant for take arguments, so they are registered without a palette entry:
//   oauthAnywhereConsumer.getSessionFor  {scopes, mode: "silent" | "createIfNone", tokenDir}: the access
//                                        token goes to <tokenDir>/<pid>-<n>.access.token, named in the result
//   oauthAnywhereConsumer.storeProbe     {key, value}   this extension's own SecretStorage (test data, not secrets)
//   oauthAnywhereConsumer.readProbe      {key}
//   oauthAnywhereConsumer.watchSessions  {scopeSets}    on every session change, asks silently for each
//                                                       scope set and logs what it got (fingerprints only)
// Times are epoch milliseconds of this machine's clock, which the test shares.
'use strict';

const vscode = require('vscode');
const fs = require('fs');
const path = require('path');

const POLL_MS = 50;

/**
 * Registers the follow command and the commands it runs. `helpers` are the consumer's own report
 * functions, so that a session is described the same way in every report.
 */
function registerFollowMode(context, helpers) {
  const { providerId, describeSession, fingerprint, describeError, writeJsonAtomic } = helpers;
  let following; // {dir, timer, seen}
  let watchedScopeSets = [];
  let tokenCounter = 0;

  const controlDir = () => {
    const dir = vscode.workspace.getConfiguration('oauthAnywhereConsumer').get('controlDir');
    return typeof dir === 'string' && dir.trim() ? dir.trim() : undefined;
  };

  const appendEvent = (event) => {
    if (!following) return;
    const file = path.join(following.dir, 'events', `${process.pid}.jsonl`);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.appendFileSync(file, JSON.stringify(event) + '\n');
    } catch (err) {
      console.error('[oauth-anywhere consumer] cannot write a follow event', err);
    }
  };

  async function snapshot(scopes) {
    try {
      const session = await vscode.authentication.getSession(providerId, scopes, { silent: true });
      return { scopes, at: Date.now(), fingerprint: session ? fingerprint(session.accessToken) : null };
    } catch (err) {
      return { scopes, at: Date.now(), error: describeError(err).message };
    }
  }

  async function run(request) {
    const startedAt = Date.now();
    const result = { id: request.id, pid: process.pid, command: request.command, scheduledAt: request.at ?? null, startedAt };
    try {
      result.value = await vscode.commands.executeCommand(request.command, ...(request.args ?? []));
      result.status = 'ok';
    } catch (err) {
      result.status = 'error';
      result.error = describeError(err);
    }
    result.finishedAt = Date.now();
    writeJsonAtomic(path.join(following.dir, 'results', `${request.id}.${process.pid}.json`), result);
  }

  function poll() {
    const dir = path.join(following.dir, 'requests');
    let names;
    try {
      names = fs.readdirSync(dir).filter((name) => name.endsWith('.json'));
    } catch {
      return; // no request yet
    }
    for (const name of names) {
      if (following.seen.has(name)) continue;
      let request;
      try {
        request = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
      } catch {
        continue; // written atomically by the test; unreadable means not for us
      }
      following.seen.add(name);
      const forMe = request.to === 'all' || (Array.isArray(request.to) && request.to.includes(process.pid));
      if (!forMe) continue;
      const delay = typeof request.at === 'number' ? Math.max(0, request.at - Date.now()) : 0;
      setTimeout(() => run(request).catch((error) => console.error('consumer: a request could not be answered', error)), delay);
    }
  }

  function follow() {
    const dir = controlDir();
    if (!dir) throw new Error('Set oauthAnywhereConsumer.controlDir to follow test requests.');
    if (following) return { pid: process.pid, dir: following.dir };
    // Requests written before this host followed are not its own: only newer ones count.
    const seen = new Set();
    try {
      for (const name of fs.readdirSync(path.join(dir, 'requests'))) seen.add(name);
    } catch {
      // none yet
    }
    following = { dir, seen, timer: setInterval(poll, POLL_MS) };
    writeJsonAtomic(path.join(dir, 'hosts', `${process.pid}.json`), { pid: process.pid, startedAt: Date.now(), logDir: context.logUri.fsPath });
    return { pid: process.pid, dir };
  }

  return [
    vscode.commands.registerCommand('oauthAnywhereConsumer.follow', follow),
    vscode.commands.registerCommand('oauthAnywhereConsumer.getSessionFor', async ({ scopes, mode, tokenDir }) => {
      const options = mode === 'createIfNone' ? { createIfNone: true } : { silent: true };
      const session = await vscode.authentication.getSession(providerId, scopes, options);
      const tokenFile = tokenDir ? path.join(tokenDir, `${process.pid}-${++tokenCounter}.access.token`) : undefined;
      return { scopes, mode, session: describeSession(session, tokenFile) };
    }),
    vscode.commands.registerCommand('oauthAnywhereConsumer.storeProbe', async ({ key, value }) => {
      await context.secrets.store(key, value);
      return { key, value };
    }),
    vscode.commands.registerCommand('oauthAnywhereConsumer.readProbe', async ({ key }) => {
      const value = await context.secrets.get(key);
      return { key, value: value ?? null };
    }),
    vscode.commands.registerCommand('oauthAnywhereConsumer.watchSessions', ({ scopeSets }) => {
      watchedScopeSets = Array.isArray(scopeSets) ? scopeSets : [];
      return { scopeSets: watchedScopeSets };
    }),
    vscode.authentication.onDidChangeSessions(async (e) => {
      if (e.provider.id !== providerId || !following) return;
      const at = Date.now();
      const snapshots = await Promise.all(watchedScopeSets.map(snapshot));
      appendEvent({ kind: 'sessions', at, snapshots });
    }),
    context.secrets.onDidChange((e) => appendEvent({ kind: 'secrets', at: Date.now(), key: e.key })),
    { dispose: () => following && clearInterval(following.timer) },
  ];
}

module.exports = { registerFollowMode };
