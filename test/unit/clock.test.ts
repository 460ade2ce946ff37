import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { realClock } from '../../src/oauth/clock.js';

describe('realClock', () => {
  test("a sleep longer than setTimeout's limit (2^31-1 ms, 24.8 days) is not cut to 1 ms", async () => {
    const stop = new AbortController();
    const outcome = await Promise.race([
      realClock.sleep(2 ** 31 + 1_000, stop.signal).then(() => 'woke early', (error: unknown) => `ended: ${String(error)}`),
      new Promise<string>((resolve) => setTimeout(resolve, 200, 'still asleep')),
    ]);
    stop.abort();
    assert.equal(outcome, 'still asleep');
  });

  test('an abort ends a long sleep at once', async () => {
    const stop = new AbortController();
    const sleeping = realClock.sleep(2 ** 32, stop.signal);
    stop.abort();
    await assert.rejects(sleeping, { name: 'OAuthError', reason: 'cancelled' });
  });
});
