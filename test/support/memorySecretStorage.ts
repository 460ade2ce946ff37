// An in-memory stand-in for vscode.SecretStorage, because the real one only exists inside a VS Code
// extension host and cannot run in plain Node. The real SecretStorage is exercised by the end-to-end
// tier (the packaged VSIX in code-server). This one models the parts the extension relies on:
//  - every window sees the same secrets: all instances made by one `createSharedSecrets()` share one
//    backing Map, so two instances stand for two VS Code windows;
//  - get/store/delete are asynchronous and settle on a later turn of the event loop, like VS Code's
//    IPC to the main process, so code that forgets to await or assumes atomicity shows it;
//  - onDidChange fires `{ key }` to the listeners of EVERY instance, the writer's own included (as
//    VS Code does), after the write has landed, each on a later tick (events travel over IPC too,
//    so a writer may see its own write settle before or after its own event).
// Reads and writes are counted per instance for tests and benchmarks.
import type { SecretStoragePort } from '../../src/auth/sessionStore.js';

type ChangeListener = (event: { key: string }) => unknown;

export interface SharedSecrets {
  /** A new "window" over the shared secrets. */
  window(): MemorySecretStorage;
  /** The secrets themselves, for arranging and inspecting state without going through a window. */
  readonly backing: Map<string, string>;
}

/** Lets the caller's synchronous code run first, as a round trip to another process would. */
function laterTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class MemorySecretStorage implements SecretStoragePort {
  /** Calls to `get` on this instance. */
  reads = 0;
  /** Calls to `store` and `delete` on this instance. */
  writes = 0;
  private readonly listeners = new Set<ChangeListener>();

  constructor(
    private readonly backing: Map<string, string>,
    private readonly broadcast: (key: string) => void,
  ) {}

  async get(key: string): Promise<string | undefined> {
    this.reads++;
    await laterTick();
    return this.backing.get(key);
  }

  async store(key: string, value: string): Promise<void> {
    this.writes++;
    await laterTick();
    this.backing.set(key, value);
    this.broadcast(key);
  }

  async delete(key: string): Promise<void> {
    this.writes++;
    await laterTick();
    // Reported as a change even when the key was absent: listeners must cope with no-op events.
    this.backing.delete(key);
    this.broadcast(key);
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

export function createSharedSecrets(initial?: Iterable<readonly [string, string]>): SharedSecrets {
  const backing = new Map<string, string>(initial);
  const windows: MemorySecretStorage[] = [];
  const broadcast = (key: string) => {
    for (const window of windows) setImmediate(() => window.notify(key));
  };
  return {
    backing,
    window() {
      const window = new MemorySecretStorage(backing, broadcast);
      windows.push(window);
      return window;
    },
  };
}
