import { cancelled, OAuthError } from './errors.js';
import type { Clock } from './types.js';

/**
 * The longest delay setTimeout keeps (2^31-1 ms, about 24.8 days): a longer one fires after 1 ms,
 * so longer sleeps are taken in steps of at most this.
 */
const longestTimerMs = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      const wait = (left: number) => {
        const step = Math.min(left, longestTimerMs);
        timer = setTimeout(() => {
          if (left > step) return wait(left - step);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, step);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      wait(ms > 0 ? ms : 0);
    }),
};

/** The error an aborted operation ends with: the signal's reason if it is ours, else "cancelled". */
export function abortReason(signal: AbortSignal): OAuthError {
  const reason: unknown = signal.reason;
  return reason instanceof OAuthError ? reason : cancelled();
}
