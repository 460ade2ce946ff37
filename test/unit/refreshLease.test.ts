import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RefreshLease, type LeaseTiming } from '../../src/auth/refreshLease.js';
import { realClock } from '../../src/oauth/clock.js';
import { createSharedSecrets } from '../support/memorySecretStorage.js';

const leaseKey = 'oauth-anywhere.sessions:https://idp.example.test/|vscode-native.refresh-lease';
/** Each session's lease lives under its own key. */
const s1Key = `${leaseKey}:s1`;
// settleMs only has to outlast one round trip of the in-memory storage (a few event-loop turns).
const quick: LeaseTiming = { settleMs: 20, leaseMs: 60_000 };

/** One lease per "window", all over one shared storage, with the real clock. */
function windows(count: number, timing: LeaseTiming = quick) {
  const shared = createSharedSecrets();
  const leases = Array.from({ length: count }, () => new RefreshLease(shared.window(), leaseKey, realClock, timing));
  return { leases, backing: shared.backing };
}

describe('RefreshLease', () => {
  test('a lone window acquires the lease', async () => {
    const [a] = windows(1).leases;
    assert.equal(await a!.tryAcquire('s1'), true);
  });

  test('when two windows try at once, exactly one acquires', async () => {
    const [a, b] = windows(2).leases;
    const results = await Promise.all([a!.tryAcquire('s1'), b!.tryAcquire('s1')]);
    assert.deepEqual([...results].sort(), [false, true]);
  });

  test('under repeated contention from three windows, each round has exactly one holder', async () => {
    const { leases } = windows(3);
    for (let round = 0; round < 8; round++) {
      // Rotate who starts first, so the outcome cannot depend on call order alone.
      const order = leases.map((_, index) => leases[(index + round) % leases.length]!);
      const results = await Promise.all(order.map((lease) => lease.tryAcquire('s1')));
      assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results.join(', ')}`);
      await order[results.indexOf(true)]!.release('s1');
    }
  });

  test('while one window holds the lease, another is refused at once', async () => {
    const [a, b] = windows(2).leases;
    assert.equal(await a!.tryAcquire('s1'), true);
    assert.equal(await b!.heldByOther('s1'), true);
    assert.equal(await b!.tryAcquire('s1'), false);
    assert.equal(await a!.heldByOther('s1'), false, 'the holder does not see itself as another window');
  });

  test('release lets the other window acquire', async () => {
    const { leases, backing } = windows(2);
    const [a, b] = leases;
    assert.equal(await a!.tryAcquire('s1'), true);
    assert.equal(await b!.tryAcquire('s1'), false);
    await a!.release('s1');
    assert.equal(backing.has(s1Key), false);
    assert.equal(await b!.tryAcquire('s1'), true);
  });

  test('release by a window that does not hold the lease leaves it in place', async () => {
    const [a, b] = windows(2).leases;
    assert.equal(await a!.tryAcquire('s1'), true);
    await b!.release('s1');
    assert.equal(await b!.tryAcquire('s1'), false);
  });

  test('an expired lease (its window crashed) is taken over', async () => {
    const timing: LeaseTiming = { settleMs: 20, leaseMs: 80 };
    const [a, b] = windows(2, timing).leases;
    assert.equal(await a!.tryAcquire('s1'), true);
    assert.equal(await b!.tryAcquire('s1'), false);
    // a never releases. Wait out its lease.
    await realClock.sleep(timing.leaseMs + 20);
    assert.equal(await b!.heldByOther('s1'), false);
    assert.equal(await b!.tryAcquire('s1'), true);
    // The crashed window coming back must not free the new holder's lease.
    await a!.release('s1');
    assert.equal(await a!.tryAcquire('s1'), false);
  });

  test('an unreadable lease record protects nothing and is replaced', async () => {
    const { leases, backing } = windows(1);
    backing.set(s1Key, '{not json');
    assert.equal(await leases[0]!.tryAcquire('s1'), true);
    assert.equal((JSON.parse(backing.get(s1Key)!) as { owner: string }).owner, leases[0]!.owner);
  });

  test('acquiring the lease for another session does not free a session still being refreshed', async () => {
    const [a, b, c] = windows(3).leases;
    assert.equal(await a!.tryAcquire('s1'), true); // a is refreshing s1
    await b!.tryAcquire('s2'); // b wants another session of the same provider
    // s1's refresh is still running in a: nobody else may refresh it (a rotated refresh token replayed revokes the grant).
    assert.equal(await c!.tryAcquire('s1'), false);
  });

  test('one window refreshing two sessions keeps both protected from other windows', async () => {
    const [a, b] = windows(2).leases;
    assert.equal(await a!.tryAcquire('s1'), true);
    assert.equal(await a!.tryAcquire('s2'), true);
    assert.equal(await b!.tryAcquire('s1'), false);
  });
});
