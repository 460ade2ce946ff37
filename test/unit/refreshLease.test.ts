// The cross-machine refresh lease over the storage model with desktop-like delays: it holds while the
// delays stay below its settle time, and the last test shows where "best-effort" ends.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RefreshLease, type LeaseTiming } from '../../src/auth/refreshLease.js';
import { realClock } from '../../src/oauth/clock.js';
import { createSharedSecrets, delayed, type Propagation } from '../support/memorySecretStorage.js';

const leaseKey = 'oauth-anywhere|https://idp.example.test/|vscode-native.refresh-lease';
const s1Key = `${leaseKey}:s1`;
/** 250 ms propagation reaches another window within 250 + 2 x 62 ms; the settle outlasts it, with room for a busy machine. */
const timing: LeaseTiming = { settleMs: 900, leaseMs: 60_000 };

/** One lease per machine, all over one SecretStorage with 250 ms propagation. */
function machines(count: number, propagation: Propagation = delayed(250), leaseTiming: LeaseTiming = timing) {
  const shared = createSharedSecrets(undefined, propagation, count);
  const leases = Array.from({ length: count }, (_, index) => new RefreshLease(shared.window(), leaseKey, `machine-${index}`, realClock, leaseTiming));
  return { leases, shared };
}

describe('RefreshLease (between machines)', () => {
  test('a lone machine acquires the lease', async () => {
    const [a] = machines(1).leases;
    assert.equal(await a!.tryAcquire('s1'), true);
  });

  test('under 250 ms propagation, of three machines trying at once exactly one acquires, round after round', async () => {
    for (let round = 0; round < 4; round++) {
      const { leases, shared } = machines(3);
      const results = await Promise.all(leases.map((lease, index) => new Promise((resolve) => setTimeout(resolve, index * 7)).then(() => lease.tryAcquire('s1'))));
      assert.equal(results.filter(Boolean).length, 1, `round ${round + 1}: ${JSON.stringify(results)}`);
      await shared.settled();
    }
  });

  test('while one machine holds the lease, another is refused at once, and acquires after the release', async () => {
    const { leases, shared } = machines(2);
    const [a, b] = leases;
    assert.equal(await a!.tryAcquire('s1'), true);
    await shared.settled();
    const started = Date.now();
    assert.equal(await b!.tryAcquire('s1'), false);
    assert.ok(Date.now() - started < timing.settleMs, 'refused without waiting');
    await a!.release('s1');
    await shared.settled();
    assert.equal(await b!.tryAcquire('s1'), true);
  });

  test('a release by a machine that does not hold the lease leaves it in place', async () => {
    const { leases, shared } = machines(2);
    const [a, b] = leases;
    await a!.tryAcquire('s1');
    await shared.settled();
    await b!.release('s1');
    await shared.settled();
    assert.equal(await b!.heldByOther('s1'), true);
  });

  test('an expired lease (its machine went away mid-refresh) is taken over', async () => {
    const { leases, shared } = machines(2);
    shared.backing.set(s1Key, JSON.stringify({ machine: 'gone', until: Date.now() - 1 }));
    const late = new RefreshLease(shared.window(), leaseKey, 'machine-new', realClock, timing);
    assert.equal(await late.tryAcquire('s1'), true);
    assert.ok(leases.length);
  });

  test('an unreadable lease protects nothing and is replaced', async () => {
    const { shared } = machines(1);
    shared.backing.set(s1Key, '{not json');
    const lease = new RefreshLease(shared.window(), leaseKey, 'machine-x', realClock, timing);
    assert.equal(await lease.tryAcquire('s1'), true);
  });

  test('leases of different sessions never disturb each other', async () => {
    const { leases } = machines(2);
    const [a, b] = leases;
    const results = await Promise.all([a!.tryAcquire('s1'), b!.tryAcquire('s2')]);
    assert.deepEqual(results, [true, true]);
  });

  test('best-effort: when storage takes longer than the settle time, two machines can both believe they hold it', async () => {
    const { leases } = machines(2, delayed(1_000), { settleMs: 50, leaseMs: 60_000 });
    const results = await Promise.all(leases.map((lease) => lease.tryAcquire('s1')));
    assert.deepEqual(results, [true, true]);
  });
});
