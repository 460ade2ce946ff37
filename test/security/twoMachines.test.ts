// Machines that share nothing but SecretStorage (a desktop and the remote hosts its windows reach:
// remote extension hosts keep their secrets on the client). No file lock and no socket reaches
// across; the SecretStorage lease, written, left to settle longer than storage takes to propagate,
// then read back, keeps a second machine from refreshing at the same time. It is best-effort by
// nature (no compare-and-swap), and is only paid for while another machine is around.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { delayed } from '../support/memorySecretStorage.js';
import { deadStoredRefreshTokens, jitter, openFleet, raceRound } from '../support/windowFleet.js';

const hour = 3_600_000;
const scopeSets = [['profile']];

for (const propagationMs of [120, 250, 500]) {
  describe(`two machines sharing SecretStorage, ${propagationMs} ms propagation`, () => {
    let idp: TestIdp;
    before(async () => {
      idp = await startTestIdp({ deviceInterval: 0.02 });
    });
    after(() => idp.close());

    it('a window on each machine, 4 expiries at once: one refresh per expiry, nothing lost', { timeout: 60_000 }, async () => {
      const fleet = openFleet(idp, delayed(propagationMs), { seed: propagationMs });
      try {
        const first = fleet.open(0);
        await first.manager.createSession(['profile']);
        await fleet.shared.settled();
        const second = fleet.open(1);
        // Both machines have been around for a while: each has announced itself.
        await Promise.all([first.manager.getSessions(undefined), second.manager.getSessions(undefined)]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        await fleet.shared.settled();
        const delay = jitter(propagationMs);
        for (let round = 1; round <= 4; round++) {
          fleet.clock.advance(2 * hour);
          idp.resetCounters();
          const result = await raceRound(fleet, scopeSets, delay);
          assert.deepEqual(result.failures, [], `round ${round}`);
          assert.ok(result.served.every(([session]) => session), `round ${round}: both machines served ${fleet.windows.map((w) => w.logs.join(' | ')).join(' ### ')}`);
          assert.equal(idp.count('refresh'), 1, `round ${round}: one refresh across both machines`);
          await fleet.shared.settled();
          assert.equal(await deadStoredRefreshTokens(idp, fleet.shared.backing.values()), 0, `round ${round}: the stored refresh token is live`);
        }
      } finally {
        fleet.dispose();
      }
    });
  });
}
