import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { homedir, hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { errorText } from '../oauth/errors.js';

/**
 * The per-user directory where the windows of one machine meet: refresh locks, and one socket per
 * window (peer windows hand each other rotated tokens there; terminal tools ask for tokens there).
 * The trust boundary is the operating-system user: the directory is mode 0700 and owned by this
 * user, so other users can neither connect to the sockets nor plant files; processes of the same
 * user are inside the boundary (they could read VS Code's storage anyway).
 */
export interface RuntimeDirectoryEnvironment {
  /** Overrides everything else (tests, or a user whose temp folder is unsuitable). */
  OAUTH_ANYWHERE_RUNTIME_DIR?: string;
  XDG_RUNTIME_DIR?: string;
}

/**
 * A Unix socket path may hold about 104 bytes (macOS) to 108 (Linux); the longest name put in the
 * directory is 44 bytes, so a longer directory is passed over.
 */
const maxDirectoryLength = 60;

/**
 * Where the directory may be, best first: $OAUTH_ANYWHERE_RUNTIME_DIR; $XDG_RUNTIME_DIR/oauth-anywhere
 * (Linux: per user, 0700, cleared at logout); the temp folder and /tmp, with the uid in the name
 * (Linux without a login session, containers, macOS); a per-host folder in the home folder, for when
 * another user took the /tmp name first (the sticky /tmp does not let us remove theirs).
 */
export function runtimeDirectoryCandidates(environment: RuntimeDirectoryEnvironment = process.env, platform: NodeJS.Platform = process.platform): string[] {
  if (environment.OAUTH_ANYWHERE_RUNTIME_DIR) return [environment.OAUTH_ANYWHERE_RUNTIME_DIR];
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const perUser = uid === undefined ? 'oauth-anywhere' : `oauth-anywhere-${uid}`;
  const candidates = platform === 'linux' && environment.XDG_RUNTIME_DIR ? [join(environment.XDG_RUNTIME_DIR, 'oauth-anywhere')] : [];
  candidates.push(join(tmpdir(), perUser));
  if (platform !== 'win32') candidates.push(join('/tmp', perUser));
  candidates.push(join(homedir(), '.cache', 'oauth-anywhere', hostname().slice(0, 20)));
  const short = candidates.filter((candidate) => candidate.length <= maxDirectoryLength);
  return [...new Set(short.length ? short : candidates.slice(-1))];
}

/** The best place for the directory, whether or not it is usable (for messages). */
export function runtimeDirectoryPath(environment: RuntimeDirectoryEnvironment = process.env, platform: NodeJS.Platform = process.platform): string {
  return runtimeDirectoryCandidates(environment, platform)[0]!;
}

export class RuntimeDirectoryError extends Error {
  override readonly name = 'RuntimeDirectoryError';
}

let opened: string | undefined;

/**
 * The first candidate that can be used (see ensureRuntimeDirectory), created if need be. Remembered
 * once found; a failure is not, so the next call tries again. Synchronous: a few stat calls.
 */
export function openRuntimeDirectory(environment: RuntimeDirectoryEnvironment = process.env, platform: NodeJS.Platform = process.platform): string {
  const candidates = runtimeDirectoryCandidates(environment, platform);
  if (opened && candidates.includes(opened) && usable(opened)) return opened;
  const reasons: string[] = [];
  for (const candidate of candidates) {
    try {
      opened = ensureRuntimeDirectorySync(candidate);
      return opened;
    } catch (error) {
      reasons.push(errorText(error));
    }
  }
  throw new RuntimeDirectoryError(`No usable runtime directory: ${reasons.join(' ')}`);
}

/**
 * Creates the directory (mode 0700) or checks the one that is there: a real directory (no symlink),
 * owned by this user, not open to group or others. A directory of ours with loose permissions is
 * tightened; anything else is refused with the reason, never used.
 */
export async function ensureRuntimeDirectory(directory: string): Promise<string> {
  return ensureRuntimeDirectorySync(directory);
}

export function ensureRuntimeDirectorySync(directory: string): string {
  // Only the last level is created where the parent exists: Node's recursive mkdir can loop forever
  // on file systems that answer ENOENT to a mkdir under an existing directory (/proc).
  const parentExists = exists(dirname(directory));
  try {
    mkdirSync(directory, { recursive: !parentExists, mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (process.platform === 'win32') return directory; // the per-user profile folder; no sockets are put there
  const stats = lstatSync(directory);
  if (stats.isSymbolicLink() || !stats.isDirectory()) {
    throw new RuntimeDirectoryError(`${directory} is not a plain directory; remove it or set OAUTH_ANYWHERE_RUNTIME_DIR.`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new RuntimeDirectoryError(`${directory} belongs to another user (uid ${stats.uid}); remove it or set OAUTH_ANYWHERE_RUNTIME_DIR.`);
  }
  if ((stats.mode & 0o077) !== 0) chmodSync(directory, 0o700);
  return directory;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function usable(directory: string): boolean {
  try {
    return lstatSync(directory).isDirectory();
  } catch {
    return false;
  }
}
