import { abortReason } from '../../src/oauth/clock.js';
import type { Clock } from '../../src/oauth/types.js';

/**
 * Time that moves only when the code under test sleeps: a sleep advances it at once (after a short
 * real pause, so a polling loop cannot spin) and is recorded, so tests count intervals instead of
 * waiting for them.
 */
export function virtualClock(start = Date.now()): Clock & { sleeps: number[]; at: number[] } {
  let now = start;
  const sleeps: number[] = [];
  const at: number[] = [];
  return {
    sleeps,
    at,
    now: () => now,
    async sleep(ms: number, signal?: AbortSignal) {
      if (signal?.aborted) throw abortReason(signal);
      sleeps.push(ms);
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (signal?.aborted) throw abortReason(signal);
      now += ms;
      at.push(now);
    },
  };
}

/** A clock that never advances while its sleeps take `realMs` each: the IdP's deadlines fire first. */
export function frozenClock(realMs: number, start = Date.now()): Clock {
  return {
    now: () => start,
    sleep: (_ms, signal) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, realMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(abortReason(signal));
        }, { once: true });
      }),
  };
}

/**
 * Wall-clock sleeps (a cross-window lease needs real time to settle) with a "now" the test moves
 * ahead, to make tokens expire without waiting for them.
 */
export function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    advance: (ms) => void (offset += ms),
  };
}

/**
 * `clock` with every sleep first waiting for the promise last handed to `gateOn`: a device sign-in
 * then polls only after the (real) approval finished, so the IdP's scripted answers come in order.
 */
export function gatedClock(clock: Clock): { gated: Clock; gateOn: (approval: Promise<unknown>) => void } {
  let gate: Promise<unknown> = Promise.resolve();
  return {
    gated: {
      now: () => clock.now(),
      sleep: async (ms, signal) => {
        await gate;
        await clock.sleep(ms, signal);
      },
    },
    gateOn: (approval) => void (gate = approval),
  };
}
