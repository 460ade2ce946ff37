import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maxBackoffMs, PollSchedule, startingInterval } from '../../src/oauth/pollSchedule.js';

describe('PollSchedule (RFC 8628 3.5)', () => {
  test('slow_down adds 5 s for good', () => {
    const schedule = new PollSchedule(2_000);
    schedule.slowDown();
    schedule.answered();
    assert.deepEqual([schedule.intervalMs, schedule.nextWaitMs()], [7_000, 7_000]);
  });

  test('unavailable without Retry-After doubles the last wait, up to a minute, and the next answer ends it', () => {
    const schedule = new PollSchedule(5_000);
    const waits = [];
    for (let round = 0; round < 5; round++) {
      schedule.unavailable();
      waits.push(schedule.nextWaitMs());
    }
    assert.deepEqual(waits, [10_000, 20_000, 40_000, maxBackoffMs, maxBackoffMs]);
    schedule.answered();
    assert.equal(schedule.nextWaitMs(), 5_000);
  });

  test('Retry-After is honoured, never below the interval and at most a minute', () => {
    const schedule = new PollSchedule(5_000);
    schedule.unavailable(12);
    assert.equal(schedule.nextWaitMs(), 12_000);
    schedule.unavailable(1);
    assert.equal(schedule.nextWaitMs(), 5_000);
    schedule.unavailable(3_600);
    assert.equal(schedule.nextWaitMs(), maxBackoffMs);
  });

  test('slow_down with Retry-After waits the longer of the two once, then the new interval', () => {
    const schedule = new PollSchedule(5_000);
    schedule.slowDown(30);
    assert.equal(schedule.nextWaitMs(), 30_000);
    schedule.answered();
    assert.equal(schedule.nextWaitMs(), 10_000);
  });
});

describe('startingInterval: the announced interval, within bounds', () => {
  const table: Array<[announced: number | undefined, lifetime: number, expected: ReturnType<typeof startingInterval>]> = [
    [5, 600, { intervalMs: 5_000 }],
    [undefined, 600, { intervalMs: 5_000, adjusted: 'absent' }],
    [0.01, 600, { intervalMs: 1_000, adjusted: 'floor' }],
    [3_000_000, 1_800, { intervalMs: 60_000, adjusted: 'ceiling' }],
    [Number.MAX_VALUE, 1_800, { intervalMs: 60_000, adjusted: 'ceiling' }],
    [600, 300, { intervalMs: 60_000, adjusted: 'ceiling' }],
    [30, 10, { intervalMs: 5_000, adjusted: 'ceiling' }],
    [undefined, 4, { intervalMs: 2_000, adjusted: 'absent' }],
    [30, 1, { intervalMs: 1_000, adjusted: 'ceiling' }],
  ];
  for (const [announced, lifetime, expected] of table) {
    test(`interval ${announced} s, code valid ${lifetime} s -> ${expected.intervalMs} ms`, () => {
      assert.deepEqual(startingInterval(announced, lifetime, 1_000), expected);
    });
  }
});
