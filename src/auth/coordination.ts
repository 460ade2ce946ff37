import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../oauth/types.js';
import { acquireFileLock, defaultFileLockTiming, processAlive, type FileLockTiming } from './fileLock.js';
import { MachinePresence } from './machinePresence.js';
import { PeerExchange } from './peerExchange.js';
import { ensureRuntimeDirectory, openRuntimeDirectory } from './runtimeDirectory.js';
import type { SessionEntry } from './sessionEntry.js';
import type { EntryExchange, SecretStoragePort } from './sessionStore.js';
import { errorText } from '../oauth/errors.js';

export interface CoordinationOptions {
  /** The per-user runtime directory; by default the first usable of runtimeDirectoryCandidates(). */
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
  /** Records a revision; the mark never moves back. */
  recordRevision(revision: number): Promise<void>;
  /** Whether the window that recorded the newest revision still runs (on this machine): its tokens are not lost, only late. */
  writerAlive(): Promise<boolean>;
  release(): Promise<void>;
}

const unlocked: SessionLock = { exact: false, lastRevision: async () => undefined, recordRevision: async () => undefined, writerAlive: async () => false, release: async () => undefined };

/** A failed start is tried again after this long (a full disk, too many open files, a folder fixed by hand). */
const retryStartAfterMs = 10_000;

/**
 * What the windows of one machine share: the per-user runtime directory with one refresh lock per
 * session, a revision mark next to each lock (so the next holder knows whether it has the newest
 * tokens), this machine's id, and the peer sockets over which windows hand each other the newest
 * entries. One per window, shared by all its providers. Locks need only the directory; the sockets
 * are a bonus on top (a window whose socket cannot listen still locks). If no directory can be used,
 * windows fall back to SecretStorage alone, the log says why, and a later refresh tries again.
 */
export class MachineCoordination {
  readonly exchange: EntryExchange;
  private peers: PeerExchange | undefined;
  private directory: string | undefined;
  private starting: Promise<boolean> | undefined;
  private failedAt = 0;
  private id: string | undefined;
  private presence: MachinePresence | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly options: CoordinationOptions = {},
  ) {
    // Every exchange waits for this window's socket, so no pull or publish misses a start-up.
    this.exchange = {
      publish: async (storeKey: string, entries: readonly SessionEntry[]) => ((await this.listening()) ? this.peers?.publish(storeKey, entries) : undefined),
      pull: async (storeKey: string) => ((await this.listening()) && this.peers ? this.peers.pull(storeKey) : []),
      join: (storeKey, member) => {
        const memberships: Array<{ dispose(): void }> = [];
        // start() settles to false on failure (and logs it); joining does not wait for it.
        this.start()
          .then(() => this.peers && memberships.push(this.peers.join(storeKey, member)))
          .catch((error: unknown) => this.logger.warn(`This window could not join the exchange of ${storeKey}: ${errorText(error)}`));
        return { dispose: () => memberships.forEach((membership) => membership.dispose()) };
      },
    };
  }

  /** Resolves true once the directory and this machine's id are ready, false when they cannot be (for now). */
  start(): Promise<boolean> {
    if (!this.starting && Date.now() - this.failedAt > retryStartAfterMs) {
      this.starting = this.prepare().then(
        () => true,
        (error: unknown) => {
          this.failedAt = Date.now();
          this.starting = undefined;
          this.logger.warn(`Windows on this machine cannot coordinate (${errorText(error)}); refreshes fall back to SecretStorage alone until it works.`);
          return false;
        },
      );
    }
    return this.starting ?? Promise.resolve(false);
  }

  /** Started, and listening on a socket that is still there (a cleared runtime directory took it). */
  private async listening(): Promise<boolean> {
    if (!(await this.start()) || !(await this.directoryStillOurs())) return false;
    await this.peers?.ensureListening().catch((error: unknown) => this.logger.debug(`Could not listen again: ${errorText(error)}`));
    return true;
  }

  /**
   * The runtime directory checked again before each use: one removed while the window runs (a tmp
   * cleaner) and made again by someone else must not receive tokens or locks. Ours with loose
   * permissions is tightened; anyone else's is refused, and this time SecretStorage alone serves.
   */
  private async directoryStillOurs(): Promise<boolean> {
    try {
      await ensureRuntimeDirectory(this.directory!);
      return true;
    } catch (error) {
      this.logger.warn(`The runtime directory cannot be used any more (${errorText(error)}); this refresh falls back to SecretStorage alone.`);
      return false;
    }
  }

  /** This machine's id (random, kept in the runtime directory), or undefined without one. */
  async machineId(): Promise<string | undefined> {
    return (await this.start()) ? this.id : undefined;
  }

  /** Which machines share SecretStorage with this one: one record of them per machine, whatever the provider. */
  async machinePresence(secrets: SecretStoragePort): Promise<MachinePresence> {
    // Without a machine id (no usable runtime directory) this window counts as a machine of its own.
    this.presence ??= new MachinePresence(secrets, (await this.machineId()) ?? `window-${randomBytes(8).toString('hex')}`);
    return this.presence;
  }

  /** For the troubleshooting report: where the windows meet, whether this one could join, and how many others are there. */
  async describe(): Promise<{ directory: string; ready: boolean; otherWindows: number }> {
    const ready = await this.start();
    return { directory: this.directory ?? this.options.directory ?? '(none usable)', ready, otherWindows: ready && this.peers ? await this.peers.peerCount() : 0 };
  }

  async lockSession(storeKey: string, sessionId: string, signal?: AbortSignal): Promise<SessionLock> {
    if (!(await this.start()) || !(await this.directoryStillOurs())) return unlocked;
    const directory = this.directory!;
    const { lockPath, markPath } = refreshLockFiles(directory, storeKey, sessionId);
    const lock = await acquireFileLock(lockPath, {
      timing: this.options.lockTiming ?? defaultFileLockTiming,
      signal,
      // The directory went away under a running window (logind removes /run/user/UID when the last
      // SSH session of the user ends): make it again, and listen again.
      recreateDirectory: async () => {
        await ensureRuntimeDirectory(directory);
        await this.peers?.ensureListening();
      },
    });
    // The mark: "<revision> <host> <pid>" of the window that wrote it (a bare revision from before).
    const readMark = async () => {
      const [revisionText, host, pidText] = (await readFile(markPath, 'utf8').catch(() => '')).trim().split(/\s+/);
      const revision = Number(revisionText);
      if (!revisionText || !Number.isInteger(revision)) return undefined;
      return { revision, host, pid: Number(pidText) };
    };
    const lastRevision = async () => (await readMark())?.revision;
    return {
      exact: true,
      lastRevision,
      recordRevision: async (revision) => {
        if (((await lastRevision()) ?? -1) >= revision) return;
        const temporary = `${markPath}.${randomBytes(4).toString('hex')}`;
        await writeFile(temporary, `${revision} ${hostname()} ${process.pid}`, { mode: 0o600 });
        await rename(temporary, markPath);
      },
      writerAlive: async () => {
        const mark = await readMark();
        return mark?.host === hostname() && Number.isInteger(mark.pid) && mark.pid > 0 && processAlive(mark.pid);
      },
      release: () => lock.release(),
    };
  }

  dispose(): void {
    this.peers?.dispose();
    this.presence?.dispose();
  }

  private async prepare(): Promise<void> {
    const directory = this.options.directory ? await ensureRuntimeDirectory(this.options.directory) : openRuntimeDirectory();
    this.id = await this.readOrCreateMachineId(directory);
    this.directory = directory;
    if (process.platform === 'win32') {
      // Named pipes live in one namespace for every user of the machine: a pipe named like a peer's
      // could be another user's. Windows of one machine read each other's tokens from SecretStorage,
      // which desktop VS Code shares between them; the locks still hold.
      this.logger.info('On Windows the windows of this machine hand over tokens through SecretStorage only (no named pipes).');
    } else if (!this.peers) {
      const peers = new PeerExchange(directory, this.logger, this.options.peerTimeoutMs);
      try {
        await peers.start();
        this.peers = peers;
      } catch (error) {
        this.logger.warn(`This window cannot listen for the other windows of this machine (${errorText(error)}); it still takes the refresh locks, and reads their tokens from storage.`);
      }
    }
  }

  /** The id in `machine-id`; a missing one is created, and one left empty by a crash (older than 2 s) is replaced. */
  private async readOrCreateMachineId(directory: string): Promise<string> {
    const path = join(directory, 'machine-id');
    for (let attempt = 0; attempt < 100; attempt++) {
      const existing = (await readFile(path, 'utf8').catch(() => '')).trim();
      if (/^[0-9a-f]{32}$/.test(existing)) return existing;
      try {
        // Exclusive: of two windows starting at once, one writes the id and both read it back.
        const handle = await open(path, 'wx', 0o600);
        await handle.writeFile(randomBytes(16).toString('hex'));
        await handle.close();
        continue;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      // There, but not (yet) an id: being written right now, or left empty by a window that crashed.
      const age = await stat(path).then((stats) => Date.now() - stats.mtimeMs, () => 0);
      if (age > 2_000) await unlink(path).catch(() => undefined);
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${path} stays unreadable`);
  }
}

/** Where the refresh lock of a session and its revision mark are (names hashed: store keys hold URLs). */
export function refreshLockFiles(directory: string, storeKey: string, sessionId: string): { lockPath: string; markPath: string } {
  const name = createHash('sha256').update(`${storeKey}\n${sessionId}`).digest('hex').slice(0, 32);
  return { lockPath: join(directory, `refresh-${name}.lock`), markPath: join(directory, `refresh-${name}.revision`) };
}

