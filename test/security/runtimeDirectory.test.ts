// The per-user runtime directory is the trust boundary for refresh locks and window sockets: it must
// be a real 0700 directory of this user, and anything else must be refused, not used.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat, symlink, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureRuntimeDirectory, runtimeDirectoryPath, RuntimeDirectoryError } from '../../src/auth/runtimeDirectory.js';

describe('runtime directory', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'oa-runtime-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  test('the override wins, then XDG_RUNTIME_DIR on Linux, then a per-uid folder in the temp folder', () => {
    assert.equal(runtimeDirectoryPath({ OAUTH_ANYWHERE_RUNTIME_DIR: '/x/y', XDG_RUNTIME_DIR: '/run/user/5' }, 'linux'), '/x/y');
    assert.equal(runtimeDirectoryPath({ XDG_RUNTIME_DIR: '/run/user/5' }, 'linux'), '/run/user/5/oauth-anywhere');
    assert.match(runtimeDirectoryPath({ XDG_RUNTIME_DIR: '/run/user/5' }, 'darwin'), /oauth-anywhere(-\d+)?$/);
    assert.equal(runtimeDirectoryPath({}, 'linux'), join(tmpdir(), `oauth-anywhere-${process.getuid!()}`));
  });

  test('a new directory is created with mode 0700', async () => {
    const directory = join(scratch, 'fresh', 'nested');
    assert.equal(await ensureRuntimeDirectory(directory), directory);
    assert.equal((await stat(directory)).mode & 0o777, 0o700);
  });

  test('an existing directory of ours that others can enter is tightened to 0700', async () => {
    const directory = join(scratch, 'loose');
    await mkdir(directory);
    await chmod(directory, 0o777);
    await ensureRuntimeDirectory(directory);
    assert.equal((await stat(directory)).mode & 0o777, 0o700);
  });

  test('a symlink in its place is refused, not followed', async () => {
    const target = join(scratch, 'elsewhere');
    await mkdir(target);
    const link = join(scratch, 'link');
    await symlink(target, link);
    await assert.rejects(ensureRuntimeDirectory(link), (error: unknown) => error instanceof RuntimeDirectoryError && /not a plain directory/.test(error.message));
  });

  test("a directory owned by another user is refused", { skip: process.getuid?.() !== 0 && 'needs root to create a directory for another user' }, async () => {
    const directory = join(scratch, 'foreign');
    await mkdir(directory, { mode: 0o700 });
    const { chown } = await import('node:fs/promises');
    await chown(directory, 65534, 65534);
    await assert.rejects(ensureRuntimeDirectory(directory), (error: unknown) => error instanceof RuntimeDirectoryError && /another user/.test(error.message));
  });
});

describe('runtime directory path length', () => {
  test('a temp folder too long for socket paths falls back to /tmp', () => {
    const long = `/very/long/${'x'.repeat(80)}`;
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = long;
    try {
      assert.equal(runtimeDirectoryPath({}, 'linux'), `/tmp/oauth-anywhere-${process.getuid!()}`);
      assert.equal(runtimeDirectoryPath({ XDG_RUNTIME_DIR: long }, 'linux'), `/tmp/oauth-anywhere-${process.getuid!()}`);
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
  });
});
