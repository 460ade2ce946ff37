// Several VS Code windows of one machine, against an IdP that rotates refresh tokens and revokes the
// whole grant when an old one is replayed (oidc-provider's default): one refresh too many, or one
// rotated token lost, and the user is signed out everywhere. Every case runs over the storage model
// at each propagation setting: 0 ms (one shared map), 120, 250 and 500 ms (desktop VS Code: each
// window its own copy, late), and never (code-server tabs: a write never reaches another tab, and
// each tab writes its whole copy back).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { propagationSettings } from '../support/memorySecretStorage.js';
import { findLeaks } from '../support/secretLedger.js';
import { identityOf, storedEntries, storedSessions } from '../support/storedSessions.js';
import { deadStoredRefreshTokens, jitter, openFleet, raceRound, type Fleet } from '../support/windowFleet.js';

const hour = 3_600_000;
const rounds = 12;
const scopeSets = [['profile'], ['email']];

/** Bounded wait for something other windows hear of later. */
async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await condition()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never happened within ${timeoutMs} ms: ${what}`);
}

/** Lines saying a refresh token was refused: each one means a window replayed a rotated token. */
const refusals = (fleet: Fleet) => fleet.windows.flatMap((window) => window.logs).filter((line) => /invalid_grant|no longer accepts|rotated by another window/.test(line));

for (const { name, propagation } of propagationSettings) {
  describe(`windows of one machine, storage propagation ${name}`, () => {
    let idp: TestIdp;
    before(async () => {
      idp = await startTestIdp({ deviceInterval: 0.02 });
    });
    after(() => idp.close());

    async function signedInFleet(windowCount: number): Promise<{ fleet: Fleet; ids: string[] }> {
      const fleet = openFleet(idp, propagation, { seed: windowCount * 7 + name.length });
      const first = fleet.open();
      const ids = [];
      for (const scopes of scopeSets) ids.push((await first.manager.createSession(scopes)).id);
      await fleet.shared.settled();
      while (fleet.windows.length < windowCount) fleet.open();
      return { fleet, ids };
    }

    it(`3 windows, 2 sessions, ${rounds} expiries at once: one refresh per session, no rotated token lost, every caller served`, { timeout: 120_000 }, async () => {
      const { fleet, ids } = await signedInFleet(3);
      try {
        const delay = jitter(0x7e57);
        for (let round = 1; round <= rounds; round++) {
          fleet.clock.advance(2 * hour);
          idp.resetCounters();
          const result = await raceRound(fleet, scopeSets, delay);
          assert.deepEqual(result.failures, [], `round ${round}: no caller failed`);
          for (const [windowIndex, served] of result.served.entries()) {
            assert.deepEqual(served.map((session) => session?.id), ids, `round ${round}: window ${windowIndex + 1} served both sessions`);
          }
          assert.equal(idp.count('refresh'), scopeSets.length, `round ${round}: exactly one refresh per session across all windows`);
          // Every window serves the newest access token of each session.
          for (const index of ids.keys()) {
            assert.equal(new Set(result.served.map((served) => served[index]!.accessToken)).size, 1, `round ${round}: one access token for session ${index + 1} everywhere`);
          }
          await fleet.shared.settled();
          assert.equal(await deadStoredRefreshTokens(idp, fleet.shared.backing.values()), 0, `round ${round}: every stored refresh token is live`);
        }
        assert.deepEqual(refusals(fleet), [], 'no refresh token was ever refused');
        const stored = storedSessions(fleet.shared.backing, identityOf(idp.issuer, idp.clientId));
        assert.deepEqual(stored.map((session) => session.id).sort(), [...ids].sort());
        for (const session of stored) assert.equal((await idp.userinfo(session.tokens.accessToken)).status, 200);
        assert.deepEqual(findLeaks(fleet.windows.flatMap((window) => window.logs).join('\n'), idp.issued), [], 'no secret in any log');
      } finally {
        fleet.dispose();
      }
    });

    it('a sign-out in one window reaches every other window at once and the session never comes back', { timeout: 60_000 }, async () => {
      const { fleet, ids } = await signedInFleet(3);
      try {
        const [signingOut, , refreshing] = fleet.windows;
        const gone = ids[0]!;
        for (const window of fleet.windows) await window.manager.getSessions(['profile']);
        const tokens = storedSessions(fleet.shared.backing, identityOf(idp.issuer, idp.clientId)).find((session) => session.id === gone)!.tokens;
        fleet.clock.advance(2 * hour);
        // One window signs out while another refreshes the same session.
        await Promise.all([signingOut!.manager.removeSession(gone), refreshing!.manager.getSessions(['profile'])]);
        for (const [index, window] of fleet.windows.entries()) {
          const tookMs = await until(async () => !(await window.manager.getSessions(undefined)).some((session) => session.id === gone), `window ${index + 1} drops it`);
          assert.ok(tookMs < 1_000, `window ${index + 1} dropped it within a second (${tookMs} ms)`);
        }
        await fleet.shared.settled();
        // A window opened afterwards (its storage as it is now) does not bring it back either.
        const late = fleet.open();
        await late.manager.getSessions(undefined);
        for (const window of fleet.windows) {
          assert.deepEqual((await window.manager.getSessions(['profile'])).map((session) => session.id), [], 'not served anywhere');
          assert.deepEqual((await window.manager.getSessions(['email'])).map((session) => session.id), [ids[1]], 'the other session stays');
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        await fleet.shared.settled();
        const entry = storedEntries(fleet.shared.backing, identityOf(idp.issuer, idp.clientId)).find((stored) => stored.id === gone);
        assert.ok(!entry || entry.removed, 'storage keeps it signed out');
        assert.equal((await idp.introspect(tokens.refreshToken!)).active, false, 'its refresh token is revoked');
      } finally {
        fleet.dispose();
      }
    });
  });
}
