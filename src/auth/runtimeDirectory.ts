import { lstat, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

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
 * directory is 44 bytes, so a longer directory falls back to the short system temp folder.
 */
const maxDirectoryLength = 60;

/** Where the directory is: $OAUTH_ANYWHERE_RUNTIME_DIR, else $XDG_RUNTIME_DIR/oauth-anywhere, else the temp folder. */
export function runtimeDirectoryPath(environment: RuntimeDirectoryEnvironment = process.env, platform: NodeJS.Platform = process.platform): string {
  if (environment.OAUTH_ANYWHERE_RUNTIME_DIR) return environment.OAUTH_ANYWHERE_RUNTIME_DIR;
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const perUser = uid === undefined ? 'oauth-anywhere' : `oauth-anywhere-${uid}`;
  // XDG_RUNTIME_DIR is per user, 0700 and cleared at logout: the right home for sockets on Linux.
  const candidates = platform === 'linux' && environment.XDG_RUNTIME_DIR ? [join(environment.XDG_RUNTIME_DIR, 'oauth-anywhere')] : [];
  // The temp folder (Linux without a login session, containers): the uid keeps users apart, and
  // ensureRuntimeDirectory refuses a directory that someone else created first.
  candidates.push(join(tmpdir(), perUser));
  if (platform !== 'win32') candidates.push(join('/tmp', perUser));
  return candidates.find((candidate) => candidate.length <= maxDirectoryLength) ?? candidates.at(-1)!;
}

export class RuntimeDirectoryError extends Error {
  override readonly name = 'RuntimeDirectoryError';
}

/**
 * Creates the directory (mode 0700) or checks the one that is there: a real directory (no symlink),
 * owned by this user, not open to group or others. A directory of ours with loose permissions is
 * tightened; anything else is refused with the reason, never used.
 */
export async function ensureRuntimeDirectory(directory: string = runtimeDirectoryPath()): Promise<string> {
  // Only the last level is created where the parent exists: Node's recursive mkdir can loop forever
  // on file systems that answer ENOENT to a mkdir under an existing directory (/proc).
  const parentExists = await lstat(dirname(directory)).then(() => true, () => false);
  await mkdir(directory, { recursive: !parentExists, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  if (process.platform === 'win32') return directory; // per-user profile folder; named pipes carry their own ACL
  const stats = await lstat(directory);
  if (stats.isSymbolicLink() || !stats.isDirectory()) {
    throw new RuntimeDirectoryError(`${directory} is not a plain directory; remove it or set OAUTH_ANYWHERE_RUNTIME_DIR.`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new RuntimeDirectoryError(`${directory} belongs to another user (uid ${stats.uid}); remove it or set OAUTH_ANYWHERE_RUNTIME_DIR.`);
  }
  if ((stats.mode & 0o077) !== 0) await chmod(directory, 0o700);
  return directory;
}
