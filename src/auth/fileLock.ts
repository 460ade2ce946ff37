import { randomUUID } from 'node:crypto';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { realClock } from '../oauth/clock.js';
import type { Clock } from '../oauth/types.js';

export interface FileLockTiming {
  /** How often a waiting window looks again. */
  pollMs: number;
  /** How often the holder touches the lock file to show it is alive. */
  heartbeatMs: number;
  /**
   * A lock of ANOTHER host (a runtime directory on a shared home folder) not touched for this long is
   * taken over: its holder cannot be asked whether it lives.
   */
  staleMs: number;
  /**
   * A lock whose holder process on this host is alive is only taken over after this long without a
   * touch: a stalled event loop (a debugger, a long garbage collection) must not let a second window
   * refresh while the first one still will; the bound only guards against a reused pid.
   */
  liveStaleMs: number;
  /** A waiter gives up after this long. */
  waitMs: number;
}

export const defaultFileLockTiming: FileLockTiming = { pollMs: 20, heartbeatMs: 1_000, staleMs: 10_000, liveStaleMs: 120_000, waitMs: 150_000 };

interface LockOwner {
  pid: number;
  host: string;
  owner: string;
}

export interface HeldFileLock {
  /** Whether the lock had to be waited for or taken over: another window may have just written. */
  readonly contended: boolean;
  release(): Promise<void>;
}

export class FileLockTimeout extends Error {
  override readonly name = 'FileLockTimeout';
}

/**
 * A lock shared by every process of this user on this machine: the file is created exclusively
 * (`wx`), so of two windows exactly one creates it. The file holds the owner's pid and host and is
 * touched every `heartbeatMs`; a waiter takes a lock over at once when its owner process is gone (a
 * crashed window). The takeover itself runs under a second lock, so that two waiters cannot both
 * break the same stale lock and then both hold a new one.
 */
export async function acquireFileLock(
  path: string,
  options: { timing?: FileLockTiming; clock?: Clock; signal?: AbortSignal; recreateDirectory?: () => Promise<void> } = {},
): Promise<HeldFileLock> {
  const timing = options.timing ?? defaultFileLockTiming;
  const clock = options.clock ?? realClock;
  const me: LockOwner = { pid: process.pid, host: hostname(), owner: randomUUID() };
  const giveUpAt = Date.now() + timing.waitMs;
  let contended = false;
  for (;;) {
    let created: boolean;
    try {
      created = await tryCreate(path, me);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' || !options.recreateDirectory) throw error;
      await options.recreateDirectory();
      created = await tryCreate(path, me);
    }
    if (created) return held(path, me, timing, contended);
    contended = true;
    const holder = await inspect(path);
    if (holder === 'gone') continue;
    if (isStale(holder, timing)) {
      await breakStale(path, holder, timing);
      continue;
    }
    if (Date.now() > giveUpAt) throw new FileLockTimeout(`Another VS Code window has held ${path} for more than ${Math.round(timing.waitMs / 1000)} s.`);
    await clock.sleep(timing.pollMs, options.signal);
  }
}

async function tryCreate(path: string, me: LockOwner): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(me));
  } finally {
    await handle.close();
  }
  return true;
}

type Holder = { owner?: LockOwner; raw: string; touchedAt: number };

async function inspect(path: string): Promise<Holder | 'gone'> {
  try {
    const [raw, stats] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { owner: parseOwner(raw), raw, touchedAt: stats.mtimeMs };
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone';
    throw error;
  }
}

function isStale(holder: Holder, timing: FileLockTiming): boolean {
  const untouchedMs = Date.now() - holder.touchedAt;
  // A file still being written has no owner yet: only its age can make it stale.
  if (!holder.owner || holder.owner.host !== hostname()) return untouchedMs > timing.staleMs;
  return !processAlive(holder.owner.pid) || untouchedMs > timing.liveStaleMs;
}

/** Removes a stale lock, unless someone else took it over meanwhile (checked under a short lock of its own). */
async function breakStale(path: string, seen: Holder, timing: FileLockTiming): Promise<void> {
  const breaker = `${path}.takeover`;
  const me: LockOwner = { pid: process.pid, host: hostname(), owner: randomUUID() };
  if (!(await tryCreate(breaker, me))) {
    // Another waiter is breaking it. Its takeover lock is only removed when that waiter died
    // mid-takeover (judged like any lock), never because it is merely slow.
    const other = await inspect(breaker);
    if (other !== 'gone' && isStale(other, timing)) await unlink(breaker).catch(ignoreMissing);
    return;
  }
  try {
    const now = await inspect(path);
    if (now !== 'gone' && now.raw === seen.raw) await unlink(path).catch(ignoreMissing);
  } finally {
    await unlink(breaker).catch(ignoreMissing);
  }
}

function held(path: string, me: LockOwner, timing: FileLockTiming, contended: boolean): HeldFileLock {
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, timing.heartbeatMs);
  heartbeat.unref?.();
  let released = false;
  return {
    contended,
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      // Only our own lock is removed: after a takeover (we hung past staleMs) the file is another's.
      const now = await inspect(path).catch(() => 'gone' as const);
      if (now !== 'gone' && now.owner?.owner === me.owner) await unlink(path).catch(ignoreMissing);
    },
  };
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.owner === 'string') return value as LockOwner;
  } catch {
    // Not written completely yet.
  }
  return undefined;
}

/** Whether a process of this machine with this pid runs (EPERM: it does, as another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return errorCode(error) === 'EPERM';
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function ignoreMissing(error: unknown): void {
  if (errorCode(error) !== 'ENOENT') throw error;
}
