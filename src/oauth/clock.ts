import { cancelled, OAuthError } from './errors.js';
import type { Clock } from './types.js';

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortReason(signal!));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** The error an aborted operation ends with: the signal's reason if it is ours, else "cancelled". */
export function abortReason(signal: AbortSignal): OAuthError {
  const reason: unknown = signal.reason;
  return reason instanceof OAuthError ? reason : cancelled();
}
