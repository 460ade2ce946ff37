// A model of vscode.SecretStorage across windows, because the real one only exists inside a VS Code
// extension host. It models the WORST real behaviour, measured on the real products (the end-to-end
// tier checks the code-server half against the real thing):
//  - 'instant': one map every window sees at once. Kinder than any real VS Code; kept only as the
//    0 ms setting.
//  - 'delayed' (desktop VS Code): each window reads and writes its own copy. A write is flushed to the
//    main process after a delay, which then broadcasts the key's value to the other windows after a
//    second delay; each delay gets random jitter. Per key, the last write to reach the main process
//    wins. There is no compare-and-swap: two windows writing one key both "succeed".
//  - 'never' (tabs of one code-server): each window loads the stored secrets once, when it opens, and
//    never hears of another window's write. Every store/delete writes the window's WHOLE copy back
//    (code-server keeps all secrets in one browser-storage item), so the last window to write decides
//    every key that a window opened later loads.
// In every setting get/store/delete settle on a later tick, as VS Code's IPC does, and onDidChange
// fires in the writer's window too (as VS Code does), and in the others only when the write reaches them.
import type { SecretStoragePort } from '../../src/auth/sessionStore.js';

type ChangeListener = (event: { key: string }) => unknown;

export type Propagation = { kind: 'instant' } | { kind: 'delayed'; flushMs: number; broadcastMs: number; jitterMs: number } | { kind: 'never' };

export const instant: Propagation = { kind: 'instant' };
export const never: Propagation = { kind: 'never' };
/** Another window sees a write about `totalMs` later: half of it the flush, half the broadcast, each +0..25 % jitter. */
export function delayed(totalMs: number): Propagation {
  return { kind: 'delayed', flushMs: totalMs / 2, broadcastMs: totalMs / 2, jitterMs: totalMs / 4 };
}

/** The settings every multi-window suite and the benchmark run at: 0, 120, 250, 500 ms and never. */
export const propagationSettings: ReadonlyArray<{ name: string; propagation: Propagation }> = [
  { name: '0 ms', propagation: instant },
  { name: '120 ms', propagation: delayed(120) },
  { name: '250 ms', propagation: delayed(250) },
  { name: '500 ms', propagation: delayed(500) },
  { name: 'never', propagation: never },
];

export interface SharedSecrets {
  readonly propagation: Propagation;
  /** A new "window": its copy starts as what is stored now. */
  window(): MemorySecretStorage;
  /** What is stored for good (the main process, or the browser's storage item): for arranging and inspecting. */
  readonly backing: Map<string, string>;
  /** Resolves once every write made so far has reached the main store and every window it will reach. */
  settled(): Promise<void>;
}

/** Lets the caller's synchronous code run first, as a round trip to another process would. */
function laterTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class MemorySecretStorage implements SecretStoragePort {
  /** Calls to `get` and `keys` on this instance. */
  reads = 0;
  /** Calls to `store` and `delete` on this instance. */
  writes = 0;
  private readonly listeners = new Set<ChangeListener>();

  constructor(
    /** This window's view: the shared map itself in the instant setting, a copy otherwise. */
    readonly copy: Map<string, string>,
    private readonly written: (window: MemorySecretStorage, key: string) => void,
  ) {}

  async get(key: string): Promise<string | undefined> {
    this.reads++;
    await laterTick();
    return this.copy.get(key);
  }

  async keys(): Promise<string[]> {
    this.reads++;
    await laterTick();
    return [...this.copy.keys()];
  }

  async store(key: string, value: string): Promise<void> {
    this.writes++;
    await laterTick();
    this.copy.set(key, value);
    this.written(this, key);
  }

  async delete(key: string): Promise<void> {
    this.writes++;
    await laterTick();
    // Reported as a change even when the key was absent: listeners must cope with no-op events.
    this.copy.delete(key);
    this.written(this, key);
  }

  onDidChange(listener: ChangeListener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /** Delivers one change event to this instance's listeners. */
  notify(key: string): void {
    for (const listener of [...this.listeners]) listener({ key });
  }
}

/** Deterministic jitter, so a failing interleaving can be replayed with the same seed. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

export function createSharedSecrets(initial?: Iterable<readonly [string, string]>, propagation: Propagation = instant, seed = 0x5eed): SharedSecrets {
  const backing = new Map<string, string>(initial);
  const windows: MemorySecretStorage[] = [];
  const random = randomSource(seed);
  const inFlight = new Set<Promise<void>>();
  const later = (ms: number, step: () => void) => {
    const done = new Promise<void>((resolve) =>
      setTimeout(() => {
        inFlight.delete(done);
        step();
        resolve();
      }, ms),
    );
    inFlight.add(done);
  };
  const jittered = (ms: number, jitterMs: number) => ms + random() * jitterMs;

  const written = (writer: MemorySecretStorage, key: string) => {
    if (propagation.kind === 'instant') {
      for (const window of windows) setImmediate(() => window.notify(key));
      return;
    }
    setImmediate(() => writer.notify(key));
    if (propagation.kind === 'never') {
      // The tab writes its whole copy back: last writer wins for every key. Nobody else hears of it.
      const snapshot = new Map(writer.copy);
      later(0, () => {
        backing.clear();
        for (const [name, value] of snapshot) backing.set(name, value);
      });
      return;
    }
    const value = writer.copy.get(key);
    later(jittered(propagation.flushMs, propagation.jitterMs), () => {
      if (value === undefined) backing.delete(key);
      else backing.set(key, value);
      for (const window of windows) {
        if (window === writer) continue;
        later(jittered(propagation.broadcastMs, propagation.jitterMs), () => {
          // The main process sends the key's value as it is when the broadcast goes out.
          const current = backing.get(key);
          if (current === undefined) window.copy.delete(key);
          else window.copy.set(key, current);
          window.notify(key);
        });
      }
    });
  };

  return {
    propagation,
    backing,
    window() {
      const window = new MemorySecretStorage(propagation.kind === 'instant' ? backing : new Map(backing), written);
      windows.push(window);
      return window;
    },
    async settled() {
      while (inFlight.size) await Promise.all([...inFlight]);
      await laterTick();
    },
  };
}
