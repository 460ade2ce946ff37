// The machine-wide refresh lock: exactly one holder among processes, a crashed holder's lock taken
// over at once, a hung holder's after staleMs, and never two holders after a takeover race.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { acquireFileLock, FileLockTimeout, type FileLockTiming } from '../../src/auth/fileLock.js';
import { scratchDirectory } from '../support/scratch.js';

const timing: FileLockTiming = { pollMs: 5, heartbeatMs: 50, staleMs: 400, liveStaleMs: 60_000, waitMs: 5_000 };

/** Another process that takes the lock and then holds it until killed (it never releases). */
async function holderProcess(path: string): Promise<{ pid: number; kill(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
    const { acquireFileLock } = require(${JSON.stringify(join(__dirname, '../../src/auth/fileLock.ts'))});
    acquireFileLock(${JSON.stringify(path)}, { timing: ${JSON.stringify(timing)} }).then(() => process.stdout.write('held\\n'));
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return { pid: child.pid!, kill: () => child.kill('SIGKILL') };
}

describe('file lock', () => {
  test('the lock file is 0600 and names its owner process', async () => {
    const path = join(scratchDirectory(), 'a.lock');
    const held = await acquireFileLock(path, { timing });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((JSON.parse(await readFile(path, 'utf8')) as { pid: number }).pid, process.pid);
    await held.release();
    await assert.rejects(stat(path), /ENOENT/);
  });

  test('20 concurrent acquirers: never two holders at once, all get their turn', async () => {
    const path = join(scratchDirectory(), 'b.lock');
    let holders = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      const held = await acquireFileLock(path, { timing });
      holders++;
      most = Math.max(most, holders);
      await new Promise((resolve) => setTimeout(resolve, 3));
      holders--;
      await held.release();
    }));
    assert.equal(most, 1);
  });

  test('a lock whose holder process crashed is taken over at once', async () => {
    const path = join(scratchDirectory(), 'c.lock');
    const holder = await holderProcess(path);
    holder.kill();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    const held = await acquireFileLock(path, { timing });
    assert.ok(Date.now() - started < timing.staleMs, `taken over in ${Date.now() - started} ms, before the staleness timeout`);
    assert.equal(held.contended, true);
    await held.release();
  });

  test('a lock whose holder is alive keeps its heartbeat and is not taken', async () => {
    const path = join(scratchDirectory(), 'd.lock');
    const holder = await holderProcess(path);
    try {
      await assert.rejects(acquireFileLock(path, { timing: { ...timing, waitMs: 1_000 } }), FileLockTimeout);
    } finally {
      holder.kill();
    }
  });

  test('a lock not touched for staleMs (a hung holder, or one of another host) is taken over, by exactly one of several waiters', async () => {
    const path = join(scratchDirectory(), 'e.lock');
    await writeFile(path, JSON.stringify({ pid: 1, host: 'another-host', owner: 'hung' }));
    const past = new Date(Date.now() - 10_000);
    await utimes(path, past, past);
    let holders = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      const held = await acquireFileLock(path, { timing });
      holders++;
      most = Math.max(most, holders);
      await new Promise((resolve) => setTimeout(resolve, 10));
      holders--;
      await held.release();
    }));
    assert.equal(most, 1);
  });

  test('a holder of another host that outlived its staleness does not remove the lock of the one that took over', async () => {
    const path = join(scratchDirectory(), 'f.lock');
    const first = await acquireFileLock(path, { timing: { ...timing, heartbeatMs: 60_000 } });
    // As if the runtime directory were on a home folder shared with another host.
    const record = JSON.parse(await readFile(path, 'utf8')) as { host: string };
    await writeFile(path, JSON.stringify({ ...record, host: 'another-host' }));
    const past = new Date(Date.now() - 10_000);
    await utimes(path, past, past);
    const second = await acquireFileLock(path, { timing });
    await first.release();
    assert.equal((JSON.parse(await readFile(path, 'utf8')) as { host: string }).host, hostname(), 'the second holder\'s lock is still there');
    await second.release();
    await assert.rejects(stat(path), /ENOENT/);
  });

  test('a holder on this host whose event loop stalls (SIGSTOP: no heartbeat) keeps its lock while its process lives', async () => {
    const path = join(scratchDirectory(), 'g.lock');
    const holder = await holderProcess(path);
    try {
      process.kill(holder.pid, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, timing.staleMs * 2));
      await assert.rejects(acquireFileLock(path, { timing: { ...timing, waitMs: 1_000 } }), FileLockTimeout);
    } finally {
      process.kill(holder.pid, 'SIGCONT');
      holder.kill();
    }
  });

  test('a runtime directory deleted under a running window is made again when a lock is taken', async () => {
    const directory = join(scratchDirectory(), 'runtime');
    await mkdir(directory, { mode: 0o700 });
    await rm(directory, { recursive: true });
    let recreated = 0;
    const held = await acquireFileLock(join(directory, 'h.lock'), {
      timing,
      recreateDirectory: async () => {
        recreated++;
        await mkdir(directory, { mode: 0o700 });
      },
    });
    assert.equal(recreated, 1);
    await held.release();
  });
});
