// What one session, one sign-in or one listing does must not spill over: a failing refresh hides
// only its own session; listing refreshes nothing; sign-ins run one at a time and share their
// outcome (a Cancel included) only with callers asking for the same thing; sessions of one account
// carry one label; a session holds the scopes the IdP granted, not the ones it was asked for.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SessionManager, type AuthSessionChanges, type SignInRunner } from '../../src/auth/sessionManager.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithDeviceGrant } from '../../src/oauth/deviceGrant.js';
import { OAuthError } from '../../src/oauth/errors.js';
import { Redactor } from '../../src/oauth/redact.js';
import { movableClock } from '../support/clocks.js';
import { startTestIdp, type Decision, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets } from '../support/memorySecretStorage.js';

const hour = 3_600_000;
const configured = ['openid', 'offline_access'];

describe('sessions and sign-ins kept apart', () => {
  let idp: TestIdp;
  let clock: ReturnType<typeof movableClock>;
  let logs: string[];
  let problems: Array<[string, unknown]>;
  /** 'ignore': nobody approves or denies; the sign-in waits. */
  let decision: Decision | 'ignore';
  let signInsRunning: number;
  let mostAtOnce: number;
  let manager: SessionManager;

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
  });
  after(() => idp.close());
  beforeEach(() => {
    idp.clearFaults();
    idp.settings.declinedScopes = [];
    clock = movableClock();
    logs = [];
    problems = [];
    decision = 'approve';
    signInsRunning = 0;
    mostAtOnce = 0;
    const client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes: configured }, { clock });
    const signIn: SignInRunner = async (request) => {
      signInsRunning++;
      mostAtOnce = Math.max(mostAtOnce, signInsRunning);
      try {
        return await signInWithDeviceGrant(client, { scopes: request.scopes, signal: request.signal, onPrompt: (prompt) => {
          if (decision !== 'ignore') void idp.approveDevice(prompt.userCode, { decision }).catch(() => undefined);
        } });
      } finally {
        signInsRunning--;
      }
    };
    manager = new SessionManager({
      providerId: 'oauth-anywhere',
      client,
      configuredScopes: configured,
      secrets: createSharedSecrets().window(),
      signIn,
      logger: captureLogger(logs),
      redactor: new Redactor(),
      clock,
      onRefreshProblem: (account, error) => problems.push([account, error]),
    });
  });

  it("one session's failing refresh leaves it out and reports it; the other session is served", async () => {
    const profile = await manager.createSession(['profile']);
    const email = await manager.createSession(['email']);
    assert.notEqual(profile.id, email.id);
    clock.advance(2 * hour);
    idp.resetCounters();
    idp.injectFault('refresh', { kind: 'status', status: 503 }, 1);
    const served = await manager.getSessions(['openid']);
    assert.equal(served.length, 1, 'the healthy session is served');
    assert.equal(idp.count('refresh'), 2);
    assert.equal(problems.length, 1, 'the failure is reported once');
    assert.ok(problems[0]![1] instanceof OAuthError && problems[0]![1].details.status === 503);
    assert.ok(logs.some((line) => line.startsWith('warn') && /could not be refreshed and is left out/.test(line)));
    // It is not removed: the next request tries again and serves both.
    assert.equal((await manager.getSessions(['openid'])).length, 2);
  });

  it('listing without scopes (VS Code listing accounts) refreshes nothing, even when every token expired', async () => {
    await manager.createSession(['profile']);
    await manager.createSession(['email']);
    clock.advance(2 * hour);
    idp.resetCounters();
    assert.equal((await manager.getSessions(undefined)).length, 2);
    assert.equal(idp.count('refresh'), 0);
  });

  it('two sessions of one account (asked with profile and with email) carry one account label', async () => {
    const profile = await manager.createSession(['profile']);
    const email = await manager.createSession(['email']);
    assert.equal(profile.account.id, email.account.id);
    const labels = new Set((await manager.getSessions(undefined)).map((session) => session.account.label));
    assert.deepEqual([...labels], [profile.account.label]);
    assert.equal(email.account.label, profile.account.label);
  });

  // VS Code (1.139) takes every removed session's account out of its Accounts menu and puts back only
  // the accounts of changed or added sessions: an account whose other session lives on must come with
  // the removal as changed, or it vanishes from the menu until that session changes (end-to-end: the
  // two-tabs suite sees "demo" vanish from both tabs' menus).
  it('signing out one of an account\'s two sessions reports the other one as changed, so the account stays in the Accounts menu', async () => {
    const profile = await manager.createSession(['profile']);
    const email = await manager.createSession(['email']);
    const events: AuthSessionChanges[] = [];
    manager.onDidChangeSessions((changes) => events.push(changes));
    await manager.removeSession(email.id);
    const removal = await eventually(() => events.find((event) => event.removed.some((session) => session.id === email.id)));
    assert.ok(removal, 'the sign-out is reported');
    const keptAccount = [...removal.changed, ...removal.added].filter((session) => session.account.id === profile.account.id);
    assert.deepEqual(keptAccount.map((session) => session.id), [profile.id], `the event: ${JSON.stringify({ removed: removal.removed.map((s) => s.id), changed: removal.changed.map((s) => s.id), added: removal.added.map((s) => s.id) })}`);
  });

  it('a scope declined at the consent step is not claimed by the session; a consumer asking for it gets none', async () => {
    idp.settings.declinedScopes = ['email'];
    const session = await manager.createSession(['profile', 'email']);
    assert.ok(!session.scopes.includes('email'), `granted: ${session.scopes.join(' ')}`);
    assert.ok(session.scopes.includes('profile'));
    assert.deepEqual(await manager.getSessions(['email']), []);
    assert.equal((await manager.getSessions(['profile'])).length, 1);
    assert.ok(logs.some((line) => /did not grant "email"/.test(line)), logs.join('\n'));
  });

  it('concurrent requests for different scopes sign in one at a time; requests for the same scopes share one sign-in', async () => {
    idp.resetCounters();
    const results = await Promise.all([
      manager.createSession(['profile']),
      manager.createSession(['profile']),
      manager.createSession(['email']),
      manager.createSession(['email']),
    ]);
    assert.equal(mostAtOnce, 1, 'never two sign-ins at once');
    assert.equal(idp.count('device_authorization'), 2, 'one sign-in per distinct request');
    assert.equal(results[0].id, results[1].id);
    assert.equal(results[2].id, results[3].id);
  });

  it('a denied sign-in ends every caller waiting for the same request, without starting more sign-ins', async () => {
    decision = 'deny';
    idp.resetCounters();
    const outcomes = await Promise.allSettled([manager.createSession(['profile']), manager.createSession(['profile']), manager.createSession(['profile'])]);
    assert.deepEqual(outcomes.map((outcome) => outcome.status), ['rejected', 'rejected', 'rejected']);
    assert.ok(outcomes.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof OAuthError && outcome.reason.kind === 'denied'));
    assert.equal(idp.count('device_authorization'), 1, 'one sign-in, not three');
  });

  it('after a failed sign-in, a caller waiting for something else gets its own sign-in, in turn', async () => {
    decision = 'deny';
    idp.resetCounters();
    const first = manager.createSession(['profile']);
    const second = manager.createSession(['email']);
    await assert.rejects(first);
    decision = 'approve';
    assert.ok((await second).scopes.includes('email'));
    assert.equal(mostAtOnce, 1);
    assert.equal(idp.count('device_authorization'), 2);
  });

  it('a sign-in whose every caller went away is cancelled, and the next sign-in runs', async () => {
    const gone = new AbortController();
    const alsoGone = new AbortController();
    idp.resetCounters();
    // Nobody approves: the sign-in would wait for the device code to expire.
    decision = 'ignore';
    const cancelled = [manager.createSession(['profile'], undefined, gone.signal), manager.createSession(['profile'], undefined, alsoGone.signal)];
    await new Promise((resolve) => setTimeout(resolve, 50));
    gone.abort();
    alsoGone.abort();
    for (const outcome of await Promise.allSettled(cancelled)) {
      assert.ok(outcome.status === 'rejected' && outcome.reason instanceof OAuthError && outcome.reason.kind === 'cancelled');
    }
    // The queue moves on: the next sign-in runs at once.
    decision = 'approve';
    const next = await manager.createSession(['email']);
    assert.ok(next.scopes.includes('email'));
  });
});

/** Polls `look` until it returns something (change events are delivered asynchronously), for at most a second. */
async function eventually<T>(look: () => T | undefined): Promise<T | undefined> {
  for (let tries = 0; tries < 100; tries++) {
    const found = look();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return look();
}
