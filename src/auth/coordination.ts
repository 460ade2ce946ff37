import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../oauth/types.js';
import { acquireFileLock, defaultFileLockTiming, type FileLockTiming } from './fileLock.js';
import { PeerExchange } from './peerExchange.js';
import { ensureRuntimeDirectory, runtimeDirectoryPath } from './runtimeDirectory.js';
import type { SessionEntry } from './sessionEntry.js';
import type { EntryExchange } from './sessionStore.js';

export interface CoordinationOptions {
  /** The per-user runtime directory; by default runtimeDirectoryPath(). */
  directory?: string;
  lockTiming?: FileLockTiming;
  /** How long a window waits for another window's answer on its socket. */
  peerTimeoutMs?: number;
}

/** Holding the refresh of one session among the windows of this machine. */
export interface SessionLock {
  /** False when the machine could not be coordinated (no usable runtime directory): only this window is held off. */
  readonly exact: boolean;
  /** The newest revision of the session any window of this machine wrote under this lock (nothing secret). */
  lastRevision(): Promise<number | undefined>;
  recordRevision(revision: number): Promise<void>;
  release(): Promise<void>;
}

/**
 * What the windows of one machine share: the per-user runtime directory with one refresh lock per
 * session, a revision mark next to each lock (so the next holder knows whether it has the newest
 * tokens), this machine's id, and the peer sockets over which windows hand each other the newest
 * entries. One per window, shared by all its providers. If the directory cannot be used, the
 * windows fall back to SecretStorage alone, and the log says why.
 */
export class MachineCoordination {
  readonly exchange: EntryExchange;
  private readonly peers: PeerExchange;
  private readonly directory: string;
  private starting: Promise<boolean> | undefined;
  private id: string | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly options: CoordinationOptions = {},
  ) {
    this.directory = options.directory ?? runtimeDirectoryPath();
    this.peers = new PeerExchange(this.directory, logger, options.peerTimeoutMs);
    // Every exchange waits for this window's socket, so no pull or publish misses a start-up.
    this.exchange = {
      publish: async (storeKey: string, entries: readonly SessionEntry[]) => ((await this.start()) ? this.peers.publish(storeKey, entries) : undefined),
      pull: async (storeKey: string) => ((await this.start()) ? this.peers.pull(storeKey) : []),
      join: (storeKey, member) => {
        // start() settles to false on failure (and logs it); joining does not wait for it.
        this.start().catch(() => false);
        return this.peers.join(storeKey, member);
      },
    };
  }

  /** Resolves true once the directory and this window's socket are ready, false when they cannot be. */
  start(): Promise<boolean> {
    this.starting ??= this.prepare().then(
      () => true,
      (error: unknown) => {
        this.logger.warn(`Windows on this machine cannot coordinate through ${this.directory} (${error instanceof Error ? error.message : String(error)}); refreshes fall back to SecretStorage alone.`);
        return false;
      },
    );
    return this.starting;
  }

  /** This machine's id (random, kept in the runtime directory), or undefined without one. */
  async machineId(): Promise<string | undefined> {
    return (await this.start()) ? this.id : undefined;
  }

  /** For the troubleshooting report: where the windows meet, whether this one could join, and how many others are there. */
  async describe(): Promise<{ directory: string; ready: boolean; otherWindows: number }> {
    const ready = await this.start();
    return { directory: this.directory, ready, otherWindows: ready ? await this.peers.peerCount() : 0 };
  }

  async lockSession(storeKey: string, sessionId: string, signal?: AbortSignal): Promise<SessionLock> {
    if (!(await this.start())) return { exact: false, lastRevision: async () => undefined, recordRevision: async () => undefined, release: async () => undefined };
    const name = createHash('sha256').update(`${storeKey}\n${sessionId}`).digest('hex').slice(0, 32);
    const lockPath = join(this.directory, `refresh-${name}.lock`);
    const markPath = join(this.directory, `refresh-${name}.revision`);
    const lock = await acquireFileLock(lockPath, { timing: this.options.lockTiming ?? defaultFileLockTiming, signal });
    return {
      exact: true,
      lastRevision: async () => {
        const text = await readFile(markPath, 'utf8').catch(() => '');
        const revision = Number(text.trim());
        return text && Number.isInteger(revision) ? revision : undefined;
      },
      recordRevision: async (revision) => {
        const temporary = `${markPath}.${randomBytes(4).toString('hex')}`;
        await writeFile(temporary, String(revision), { mode: 0o600 });
        await rename(temporary, markPath);
      },
      release: () => lock.release(),
    };
  }

  dispose(): void {
    this.peers.dispose();
  }

  private async prepare(): Promise<void> {
    await ensureRuntimeDirectory(this.directory);
    this.id = await this.readOrCreateMachineId();
    await this.peers.start();
  }

  private async readOrCreateMachineId(): Promise<string> {
    const path = join(this.directory, 'machine-id');
    for (let attempt = 0; attempt < 50; attempt++) {
      const existing = (await readFile(path, 'utf8').catch(() => '')).trim();
      if (/^[0-9a-f]{32}$/.test(existing)) return existing;
      try {
        const handle = await open(path, 'wx', 0o600);
        const id = randomBytes(16).toString('hex');
        await handle.writeFile(id);
        await handle.close();
        return id;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // Another window is writing it right now.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    throw new Error(`${path} stays unreadable`);
  }
}
