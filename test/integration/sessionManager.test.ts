import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SessionManager, type AuthSessionChanges, type SignInRunner } from '../../src/auth/sessionManager.js';
import { MachineCoordination } from '../../src/auth/coordination.js';
import { legacyDocumentKey } from '../../src/auth/legacyDocument.js';
import { loadCallbackPages } from '../../src/oauth/callbackPages.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithDeviceGrant } from '../../src/oauth/deviceGrant.js';
import { OAuthError } from '../../src/oauth/errors.js';
import { signInWithLoopback } from '../../src/oauth/loopback.js';
import { Redactor } from '../../src/oauth/redact.js';
import { fastPolling } from '../support/deviceSessionManager.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets, type MemorySecretStorage, type SharedSecrets } from '../support/memorySecretStorage.js';
import { startTestIdp, type Decision, type TestIdp } from '../support/idp.js';
import { movableClock } from '../support/clocks.js';
import { identityOf, storedSessions } from '../support/storedSessions.js';
import { scratchDirectory } from '../support/scratch.js';
import { meanwhile } from '../support/meanwhile.js';

const scopes = ['openid', 'profile', 'email', 'offline_access'];
const pages = loadCallbackPages(join(__dirname, '../../media'));
const hour = 3_600_000;


/**
 * One VS Code window's provider logic with the thinnest possible adapter where VS Code would show
 * prompts: the "user" approves or denies at the real IdP.
 */
interface TestWindow {
  manager: SessionManager;
  coordination: MachineCoordination;
  secrets: MemorySecretStorage;
  client: OAuthClient;
  events: AuthSessionChanges[];
  logs: string[];
  decision: Decision;
  flow: 'device' | 'loopback';
}

describe('SessionManager (the provider logic) against oidc-provider', () => {
  let idp: TestIdp;
  let shared: SharedSecrets;
  let clock: ReturnType<typeof movableClock>;
  const windows: TestWindow[] = [];

  function openWindow(): TestWindow {
    // The client stamps token expiry with the same clock the manager judges it by.
    const client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { clock });
    const logs: string[] = [];
    const window = { secrets: shared.window(), client, events: [] as AuthSessionChanges[], logs, decision: 'approve', flow: 'device' } as TestWindow;
    const signIn: SignInRunner = (request) =>
      window.flow === 'device'
        ? signInWithDeviceGrant(client, { ...fastPolling, scopes: request.scopes, onPrompt: (prompt) => meanwhile(idp.approveDevice(prompt.userCode, { decision: window.decision })) })
        : signInWithLoopback(client, {
            scopes: request.scopes,
            pages,
            openBrowser: async (url) => {
              meanwhile(idp.authorize(url, { decision: window.decision }));
              return true;
            },
          });
    window.coordination = new MachineCoordination(captureLogger(logs), { directory: runtimeDirectory });
    window.manager = new SessionManager({
      providerId: 'oauth-anywhere',
      client,
      configuredScopes: scopes,
      secrets: window.secrets,
      signIn,
      logger: captureLogger(logs),
      redactor: new Redactor(),
      clock,
      coordination: window.coordination,
    });
    window.manager.watch();
    window.manager.onDidChangeSessions((changes) => window.events.push(changes));
    windows.push(window);
    return window;
  }

  let runtimeDirectory: string;
  const identity = () => identityOf(idp.issuer, idp.clientId);
  const storedNow = () => ({ sessions: storedSessions(shared.backing, identity()) });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
  });
  after(() => idp.close());
  beforeEach(() => {
    for (const window of windows.splice(0)) {
      window.manager.dispose();
      window.coordination.dispose();
    }
    runtimeDirectory = scratchDirectory();
    shared = createSharedSecrets();
    clock = movableClock();
    idp.clearFaults();
    idp.resetCounters();
  });

  it('signs in with the device grant, stores the session and serves it to matching scope requests only', async () => {
    const window = openWindow();
    const session = await window.manager.createSession(['profile']);
    assert.equal(session.account.label, 'demo');
    assert.equal(session.account.id, `${new URL(idp.issuer).href}#demo-user`);
    assert.deepEqual([...session.scopes], ['email', 'offline_access', 'openid', 'profile']);
    assert.ok(session.idToken);
    assert.deepEqual(window.events.map((event) => event.added.length), [1]);

    assert.equal((await window.manager.getSessions(['email', 'openid'])).length, 1, 'order-insensitive subset');
    assert.equal((await window.manager.getSessions(['repo'])).length, 0);
    assert.equal((await window.manager.getSessions(undefined)).length, 1);
    assert.equal((await window.manager.getSessions(['openid'], 'someone-else')).length, 0);
    assert.equal(storedNow().sessions[0]?.tokens.accessToken, session.accessToken);
  });

  it('signs in with the loopback flow too', async () => {
    const window = openWindow();
    window.flow = 'loopback';
    const session = await window.manager.createSession([]);
    assert.equal(session.account.label, 'demo');
    assert.equal((await idp.userinfo(session.accessToken)).status, 200);
  });

  it('runs one sign-in for two concurrent requests that the same session serves', async () => {
    const window = openWindow();
    const [first, second] = await Promise.all([window.manager.createSession(['profile']), window.manager.createSession(['email'])]);
    assert.equal(first.id, second.id);
    assert.equal(idp.count('device_authorization'), 1, 'one device sign-in');
  });

  it('stores nothing when the user denies', async () => {
    for (const flow of ['device', 'loopback'] as const) {
      const window = openWindow();
      window.flow = flow;
      window.decision = 'deny';
      const error = await window.manager.createSession([]).catch((caught: unknown) => caught);
      assert.ok(error instanceof OAuthError && error.kind === 'denied', `${flow}: ${String(error)}`);
      assert.deepEqual(storedNow().sessions, []);
      assert.equal(window.events.length, 0);
    }
  });

  it('refreshes an expiring token once for 50 concurrent callers, and persists the rotated refresh token first', async () => {
    const window = openWindow();
    const original = await window.manager.createSession([]);
    clock.advance(2 * hour);
    idp.resetCounters();
    const results = await Promise.all(Array.from({ length: 50 }, () => window.manager.getSessions(['openid'])));
    assert.equal(idp.count('refresh'), 1, 'one refresh request reached the IdP');
    const tokens = new Set(results.map(([session]) => session?.accessToken));
    assert.equal(tokens.size, 1, 'every caller got the same new token');
    const [fresh] = [...tokens];
    assert.notEqual(fresh, original.accessToken);
    assert.equal((await idp.userinfo(fresh!)).status, 200);
    const stored = storedNow();
    assert.equal(stored.sessions[0]!.tokens.accessToken, fresh);
    assert.equal((await idp.introspect(stored.sessions[0]!.tokens.refreshToken!)).active, true, 'the stored refresh token is the live, rotated one');
    assert.ok(window.events.some((event) => event.changed.length === 1));
  });

  it('two windows racing to refresh over 100 rounds lose no session (rotating refresh tokens)', async () => {
    const first = openWindow();
    const second = openWindow();
    const created = await first.manager.createSession([]);
    await settle();
    assert.equal((await second.manager.getSessions(undefined)).length, 1, 'the second window sees the session');
    idp.resetCounters();
    let lost = 0;
    for (let round = 1; round <= 100; round++) {
      clock.advance(2 * hour);
      const [a, b] = await Promise.all([first.manager.getSessions(['openid']), second.manager.getSessions(['openid'])]);
      if (a.length !== 1 || b.length !== 1 || a[0]!.id !== created.id || b[0]!.id !== created.id) lost++;
    }
    assert.equal(lost, 0);
    assert.equal(idp.count('refresh'), 100, 'exactly one refresh per round across both windows');
    const stored = storedNow();
    assert.equal((await idp.introspect(stored.sessions[0]!.tokens.refreshToken!)).active, true);
  });

  it('drops a session whose refresh token the IdP revoked, fires removed, and signs in again on request', async () => {
    const window = openWindow();
    const session = await window.manager.createSession([]);
    const stored = storedNow();
    await window.client.revoke(stored.sessions[0]!.tokens.refreshToken!, 'refresh_token');
    clock.advance(2 * hour);
    assert.deepEqual(await window.manager.getSessions(['openid']), []);
    assert.ok(window.events.some((event) => event.removed.some((removed) => removed.id === session.id)));
    assert.deepEqual(storedNow().sessions, []);
    assert.ok(window.logs.some((line) => line.startsWith('warn') && /no longer accepts/.test(line)));
    const again = await window.manager.createSession([]);
    assert.notEqual(again.id, session.id);
  });

  it('signs out: revokes both tokens, removes the session, and the other window hears of it', async () => {
    const first = openWindow();
    const second = openWindow();
    const session = await first.manager.createSession([]);
    await settle();
    await second.manager.getSessions(undefined);
    const stored = storedNow().sessions[0]!.tokens;
    await first.manager.removeSession(session.id);
    assert.equal((await idp.introspect(stored.refreshToken!)).active, false);
    assert.equal((await idp.introspect(stored.accessToken)).active, false);
    assert.ok(first.events.some((event) => event.removed.length === 1));
    await settle();
    assert.ok(second.events.some((event) => event.removed.some((removed) => removed.id === session.id)), 'removed in the other window too');
    assert.deepEqual(await second.manager.getSessions(undefined), []);
  });

  it('still signs out locally when revocation fails, and says so in the log', async () => {
    const window = openWindow();
    const session = await window.manager.createSession([]);
    idp.injectFault('revocation', { kind: 'status', status: 500 }, 2);
    await window.manager.removeSession(session.id);
    assert.deepEqual(await window.manager.getSessions(undefined), []);
    assert.ok(window.logs.some((line) => line.startsWith('warn') && /Could not revoke/.test(line)));
  });

  it('sets a corrupt document aside and carries on with no sessions', async () => {
    const legacyKey = legacyDocumentKey('oauth-anywhere', identity());
    shared.backing.set(legacyKey, '{"version": 1, "sessions": [tru');
    const window = openWindow();
    assert.deepEqual(await window.manager.getSessions(undefined), []);
    assert.equal(shared.backing.get(`oauth-anywhere.unreadable:${legacyKey}`), '{"version": 1, "sessions": [tru');
    assert.ok(window.logs.some((line) => line.startsWith('warn') && /could not be read/.test(line)));
    const session = await window.manager.createSession([]);
    assert.equal((await window.manager.getSessions(undefined))[0]?.id, session.id);
  });

  it('reads storage once (the key list, then the one entry) for many getSessions calls on a valid session', async () => {
    const window = openWindow();
    await window.manager.createSession([]);
    const fresh = openWindow();
    const readsBefore = fresh.secrets.reads;
    await Promise.all(Array.from({ length: 200 }, () => fresh.manager.getSessions(['openid'])));
    assert.equal(fresh.secrets.reads - readsBefore, 2);
  });
});
