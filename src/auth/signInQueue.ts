import { cancelled } from '../oauth/errors.js';

/** One sign-in that several callers asking for the same thing wait on together. */
interface SharedSignIn<T> {
  result: Promise<T>;
  controller: AbortController;
  waiters: number;
  /** Waiters that can no longer go away (they gave no signal) keep the sign-in alive. */
  unabortable: number;
  gone: number;
}

/**
 * Interactive sign-ins, one at a time: a person can answer one prompt, not three. Callers asking for
 * the same thing (same key) share one sign-in and its outcome, a Cancel included; callers asking for
 * something else wait their turn, and may find that the sign-in before them already serves them. A
 * sign-in is stopped when every caller waiting on it has gone away (each aborted its signal).
 */
export class SignInQueue<T> {
  private readonly pending = new Map<string, SharedSignIn<T>>();
  private turn: Promise<void> = Promise.resolve();
  private queued = 0;

  /**
   * Runs `run` for `key` in its turn, or joins the one already waiting or running for it.
   * `run` is told whether other sign-ins ran before it in this queue.
   */
  run(key: string, run: (signal: AbortSignal, waitedBehindOthers: boolean) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let shared = this.pending.get(key);
    if (!shared) {
      const created: SharedSignIn<T> = { result: undefined as unknown as Promise<T>, controller: new AbortController(), waiters: 0, unabortable: 0, gone: 0 };
      created.result = this.inTurn((waitedBehindOthers) => {
        created.controller.signal.throwIfAborted();
        return run(created.controller.signal, waitedBehindOthers);
      }).finally(() => this.pending.delete(key));
      created.result.catch(() => undefined);
      this.pending.set(key, created);
      shared = created;
    }
    return this.join(shared, signal);
  }

  private join(shared: SharedSignIn<T>, signal: AbortSignal | undefined): Promise<T> {
    shared.waiters++;
    if (!signal) {
      shared.unabortable++;
      return shared.result;
    }
    if (signal.aborted) return this.leave(shared);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.leave(shared).catch(reject);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      shared.result.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private leave(shared: SharedSignIn<T>): Promise<never> {
    shared.gone++;
    if (shared.unabortable === 0 && shared.gone === shared.waiters) shared.controller.abort(cancelled());
    return Promise.reject(cancelled());
  }

  private async inTurn<R>(step: (waitedBehindOthers: boolean) => Promise<R>): Promise<R> {
    const previous = this.turn;
    const waitedBehindOthers = this.queued > 0;
    let done!: () => void;
    this.turn = new Promise<void>((resolve) => (done = resolve));
    this.queued++;
    try {
      await previous;
      return await step(waitedBehindOthers);
    } finally {
      this.queued--;
      done();
    }
  }
}
