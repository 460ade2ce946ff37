import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignInQueue } from '../../src/auth/signInQueue.js';

/** A sign-in the test finishes by hand; it also ends when its signal aborts. */
function manual() {
  const started: Array<{ key: string; signal: AbortSignal; behind: boolean; finish(value: string): void }> = [];
  const run = (key: string) => (signal: AbortSignal, behind: boolean) =>
    new Promise<string>((resolve, reject) => {
      started.push({ key, signal, behind, finish: resolve });
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
  return { started, run };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('SignInQueue', () => {
  test('one at a time, in order; each is told whether another ran before it', async () => {
    const queue = new SignInQueue<string>();
    const { started, run } = manual();
    const first = queue.run('a', run('a'));
    const second = queue.run('b', run('b'));
    await tick();
    assert.deepEqual(started.map((each) => each.key), ['a']);
    started[0]!.finish('A');
    assert.equal(await first, 'A');
    await tick();
    assert.deepEqual(started.map((each) => [each.key, each.behind]), [['a', false], ['b', true]]);
    started[1]!.finish('B');
    assert.equal(await second, 'B');
  });

  test('callers with the same key share one run and its outcome', async () => {
    const queue = new SignInQueue<string>();
    const { started, run } = manual();
    const calls = [queue.run('a', run('a')), queue.run('a', run('a')), queue.run('a', run('a'))];
    await tick();
    assert.equal(started.length, 1);
    started[0]!.finish('A');
    assert.deepEqual(await Promise.all(calls), ['A', 'A', 'A']);
  });

  test('a caller that goes away is released at once; the run goes on while a caller without a signal waits', async () => {
    const queue = new SignInQueue<string>();
    const { started, run } = manual();
    const leaving = new AbortController();
    const left = queue.run('a', run('a'), leaving.signal);
    const staying = queue.run('a', run('a'));
    await tick();
    leaving.abort();
    await assert.rejects(left, /cancelled/);
    assert.equal(started[0]!.signal.aborted, false);
    started[0]!.finish('A');
    assert.equal(await staying, 'A');
  });

  test('when every caller went away, the run is aborted and the next one starts', async () => {
    const queue = new SignInQueue<string>();
    const { started, run } = manual();
    const one = new AbortController();
    const two = new AbortController();
    const calls = [queue.run('a', run('a'), one.signal), queue.run('a', run('a'), two.signal)];
    const next = queue.run('b', run('b'));
    await tick();
    one.abort();
    two.abort();
    for (const outcome of await Promise.allSettled(calls)) assert.equal(outcome.status, 'rejected');
    assert.equal(started[0]!.signal.aborted, true);
    await tick();
    assert.equal(started[1]?.key, 'b');
    started[1].finish('B');
    assert.equal(await next, 'B');
  });

  test('a caller whose signal is already aborted never starts a run', async () => {
    const queue = new SignInQueue<string>();
    const { started, run } = manual();
    await assert.rejects(queue.run('a', run('a'), AbortSignal.abort()), /cancelled/);
    await tick();
    assert.equal(started.length, 0);
  });
});
