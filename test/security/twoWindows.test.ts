// Several VS Code windows sharing one SecretStorage, against an IdP that rotates refresh tokens and
// revokes the whole grant when an old one is replayed (oidc-provider's default). One refresh too
// many, or one rotated token lost, and the user is signed out everywhere. Three windows race every
// round, each after a random small delay, so their lease attempts interleave differently each time.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SessionManager, type AuthSessionChanges } from '../../src/auth/sessionManager.js';
import { storageKey } from '../../src/auth/sessionStore.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets, type SharedSecrets } from '../support/memorySecretStorage.js';
import { findLeaks } from '../support/secretLedger.js';
import { movableClock } from '../support/clocks.js';
import { deviceSessionManager } from '../support/deviceSessionManager.js';

const scopes = ['openid', 'profile', 'email', 'offline_access'];
const hour = 3_600_000;
const rounds = 100;
const windowCount = 3;


/** Deterministic jitter, so a failing interleaving can be replayed. */
function jitter(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % 16;
  };
}

interface Window {
  manager: SessionManager;
  events: AuthSessionChanges[];
  logs: string[];
}

describe(`${windowCount} windows over one SecretStorage, rotating refresh tokens`, () => {
  let idp: TestIdp;
  let shared: SharedSecrets;
  let clock: ReturnType<typeof movableClock>;
  let windows: Window[] = [];

  function openWindow(): Window {
    const logs: string[] = [];
    const logger = captureLogger(logs);
    const { manager } = deviceSessionManager(idp, shared.window(), { logger, clock, scopes, leaseTiming: { settleMs: 25, leaseMs: 10_000 } });
    manager.watch();
    const window: Window = { manager, events: [], logs };
    manager.onDidChangeSessions((changes) => window.events.push(changes));
    windows.push(window);
    return window;
  }

  const key = () => storageKey({ providerId: 'oauth-anywhere', issuer: new URL(idp.issuer).href, clientId: idp.clientId });
  const storedTokens = () => (JSON.parse(shared.backing.get(key())!) as { sessions: { tokens: { accessToken: string; refreshToken: string } }[] }).sessions[0]!.tokens;
  /** Lines saying a refresh token was refused: each one means a window replayed a rotated token. */
  const refusals = () => windows.flatMap((window) => window.logs).filter((line) => /invalid_grant|rejected the grant|no longer accepts|rotated by another window/.test(line));
  /** Bounded wait for the other windows to hear of a change (events travel on later ticks). */
  async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
    for (let turn = 0; turn < 500; turn++) {
      if (await condition()) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`never happened: ${what}`);
  }

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
  });
  after(() => idp.close());
  beforeEach(() => {
    for (const window of windows) window.manager.dispose();
    windows = [];
    shared = createSharedSecrets();
    clock = movableClock();
    idp.clearFaults();
    idp.resetCounters();
  });

  it(`${rounds} refresh races lose no session: one refresh per round, the stored token always live`, { timeout: 5 * 60_000 }, async () => {
    const all = Array.from({ length: windowCount }, openWindow);
    const created = await all[0]!.manager.createSession([]);
    await until(async () => (await all[windowCount - 1]!.manager.getSessions(undefined)).length === 1, 'the last window sees the session');
    idp.resetCounters();
    const delay = jitter(0x7e57);
    const lostRounds: string[] = [];
    const refreshCounts: number[] = [];

    for (let round = 1; round <= rounds; round++) {
      clock.advance(2 * hour);
      const refreshesBefore = idp.count('refresh');
      const results = await Promise.all(
        all.map(async (window) => {
          await new Promise((resolve) => setTimeout(resolve, delay()));
          return window.manager.getSessions(['openid']);
        }),
      );
      const served = results.map((sessions) => sessions.map((session) => session.id).join(','));
      if (served.some((ids) => ids !== created.id)) lostRounds.push(`round ${round}: ${JSON.stringify(served)}`);
      refreshCounts.push(idp.count('refresh') - refreshesBefore);
      const tokens = storedTokens();
      // Every window got the same, current access token: the one in storage.
      assert.deepEqual(results.map((sessions) => sessions[0]?.accessToken), all.map(() => tokens.accessToken), `round ${round}: all windows serve the stored access token`);
      assert.equal((await idp.introspect(tokens.refreshToken)).active, true, `round ${round}: the stored refresh token is live at the IdP`);
    }

    assert.deepEqual(lostRounds, [], 'no window ever lost the session');
    assert.deepEqual(refreshCounts, Array.from({ length: rounds }, () => 1), 'exactly one refresh per round across all windows');
    assert.equal(idp.requests.filter((request) => request.grantType === 'refresh_token' && request.status !== 200).length, 0, 'the IdP refused no refresh');
    assert.deepEqual(refusals(), [], 'no invalid_grant anywhere in the logs');
    assert.equal((await idp.userinfo(storedTokens().accessToken)).status, 200);
    assert.deepEqual(findLeaks(windows.flatMap((window) => window.logs).join('\n'), idp.issued), [], 'no secret in any log');
  });

  it('sign-out in one window removes the session in the others: event fired, getSessions empty, tokens revoked', { timeout: 60_000 }, async () => {
    const all = Array.from({ length: windowCount }, openWindow);
    const session = await all[1]!.manager.createSession([]);
    for (const window of all) await until(async () => (await window.manager.getSessions(undefined)).length === 1, 'every window sees the session');
    const tokens = storedTokens();
    await all[0]!.manager.removeSession(session.id);

    for (const [index, window] of all.entries()) {
      await until(() => window.events.some((changes) => changes.removed.some((removed) => removed.id === session.id)), `window ${index + 1} hears of the sign-out`);
      assert.deepEqual(await window.manager.getSessions(undefined), [], `window ${index + 1} serves nothing`);
      assert.deepEqual(await window.manager.getSessions(['openid']), []);
    }
    assert.equal(shared.backing.get(key()), undefined);
    assert.equal((await idp.introspect(tokens.refreshToken)).active, false);
    assert.equal((await idp.introspect(tokens.accessToken)).active, false);
  });

  it('a sign-out racing a refresh in another window does not bring the session back', { timeout: 60_000 }, async () => {
    const all = Array.from({ length: windowCount }, openWindow);
    for (let attempt = 0; attempt < 10; attempt++) {
      const session = await all[0]!.manager.createSession([]);
      for (const window of all) await until(async () => (await window.manager.getSessions(undefined)).some((served) => served.id === session.id), 'every window sees the session');
      clock.advance(2 * hour);
      // Windows 2 and 3 refresh while window 1 signs out, with the sign-out a little earlier or later each time.
      await Promise.allSettled([
        new Promise((resolve) => setTimeout(resolve, attempt)).then(() => all[0]!.manager.removeSession(session.id)),
        all[1]!.manager.getSessions(['openid']),
        new Promise((resolve) => setTimeout(resolve, 10 - attempt)).then(() => all[2]!.manager.getSessions(['openid'])),
      ]);
      for (const [index, window] of all.entries()) {
        await until(async () => (await window.manager.listSessions()).length === 0, `window ${index + 1} holds no session after attempt ${attempt + 1}`);
      }
      assert.equal(shared.backing.get(key()), undefined, `attempt ${attempt + 1}: nothing stored`);
    }
  });
});
