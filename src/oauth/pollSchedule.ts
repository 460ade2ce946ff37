/** RFC 8628 3.2: when the server sends no interval, poll every 5 s. */
export const defaultIntervalSeconds = 5;
/** Never more often than this, whatever `interval` the identity provider sends (0.01 would be 100 polls a second). */
export const minimumPollIntervalMs = 1_000;
/** RFC 8628 3.5: "the interval MUST be increased by 5 seconds" on every slow_down. */
const slowDownStepMs = 5_000;
/** The longest a back-off or a Retry-After makes a sign-in wait between two polls. */
export const maxBackoffMs = 60_000;
/** The longest `interval` taken from the identity provider: a poll a minute at least, like the back-off's cap. */
export const maxIntervalMs = 60_000;
/**
 * The longest a device sign-in waits for approval, whatever `expires_in` says: identity providers give
 * 5 to 30 minutes, and a code that lives for years would keep a sign-in (and its notification) open
 * for good.
 */
export const maxCodeLifetimeSeconds = 1_800;

/** The interval polling starts with, and why it is not the announced one. */
export interface StartingInterval {
  intervalMs: number;
  adjusted?: 'absent' | 'floor' | 'ceiling';
}

/**
 * The announced interval (5 s when there is none), held between the floor and a ceiling: at most a
 * minute, and at most half the code's lifetime, so that the code is polled at least once before it
 * expires even when the identity provider asks for a longer interval than the code lives.
 */
export function startingInterval(announcedSeconds: number | undefined, lifetimeSeconds: number, floorMs: number): StartingInterval {
  const ceilingMs = Math.min(maxIntervalMs, (lifetimeSeconds * 1000) / 2);
  const wantedMs = (announcedSeconds ?? defaultIntervalSeconds) * 1000;
  const intervalMs = Math.max(floorMs, Math.min(wantedMs, ceilingMs));
  if (announcedSeconds === undefined) return { intervalMs, adjusted: 'absent' };
  if (wantedMs < floorMs) return { intervalMs, adjusted: 'floor' };
  return wantedMs > intervalMs ? { intervalMs, adjusted: 'ceiling' } : { intervalMs };
}

/**
 * When to poll next. The interval in force is the announced one (at least the floor), plus 5 s per
 * slow_down, for good. An unavailable identity provider (429, 502, 503, 504, no answer) is given
 * more time: its Retry-After when it sends one, else twice the wait before; both capped at
 * `maxBackoffMs`, never below the interval, and over with the next real answer.
 */
export class PollSchedule {
  private interval: number;
  private backoff = 0;

  constructor(intervalMs: number) {
    this.interval = intervalMs;
  }

  get intervalMs(): number {
    return this.interval;
  }

  /** The wait before the next poll. */
  nextWaitMs(): number {
    return Math.max(this.interval, this.backoff);
  }

  /** authorization_pending: the interval in force, and any back-off is over. */
  answered(): void {
    this.backoff = 0;
  }

  slowDown(retryAfterSeconds?: number): void {
    this.interval += slowDownStepMs;
    this.backoff = retryAfterSeconds === undefined ? 0 : Math.min(retryAfterSeconds * 1000, maxBackoffMs);
  }

  unavailable(retryAfterSeconds?: number): void {
    const doubled = Math.min(this.nextWaitMs() * 2, maxBackoffMs);
    this.backoff = retryAfterSeconds === undefined ? doubled : Math.min(retryAfterSeconds * 1000, maxBackoffMs);
  }
}
