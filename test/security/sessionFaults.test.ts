// What goes wrong around the sessions in real use, beyond windows racing: the runtime directory
// taken by another user, deleted under a running window, a machine id left empty by a crash; tokens
// that another window wrote and then took with it; another machine's lease that never ends; data of
// a newer version of the extension; sign-out marks outliving their time.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MachineCoordination, refreshLockFiles } from '../../src/auth/coordination.js';
import { openRuntimeDirectory, runtimeDirectoryCandidates } from '../../src/auth/runtimeDirectory.js';
import { SessionStore, type StoredSession } from '../../src/auth/sessionStore.js';
import { movableClock } from '../support/clocks.js';
import { deviceSessionManager } from '../support/deviceSessionManager.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets, propagationSettings } from '../support/memorySecretStorage.js';
import { scratchDirectory } from '../support/scratch.js';
import { entryKey, identityOf } from '../support/storedSessions.js';
import { fleetScopes } from '../support/windowFleet.js';

const hour = 3_600_000;
const day = 24 * hour;

describe('the runtime directory and the machine id under faults', () => {
  it('another local user created the temp-folder directory first: the next candidate is used, not theirs', { skip: process.getuid?.() !== 0 && 'needs root to act as another user' }, () => {
    const tmp = mkdtempSync('/tmp/oa-foreign-');
    chmodSync(tmp, 0o1777);
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const [planted] = runtimeDirectoryCandidates({}, 'linux');
      assert.ok(planted!.startsWith(tmp));
      const made = spawnSync('mkdir', ['-m', '0777', planted!], { uid: 65534, gid: 65534 });
      assert.equal(made.status, 0, String(made.stderr));
      const used = openRuntimeDirectory({}, 'linux');
      assert.notEqual(used, planted);
      assert.ok(runtimeDirectoryCandidates({}, 'linux').includes(used));
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('the directory deleted under a running window (logind clears /run/user/UID): the next lock makes it again, and the window listens again', async () => {
    const directory = join(scratchDirectory(), 'oauth-anywhere');
    const [one, two] = [new MachineCoordination(captureLogger([]), { directory }), new MachineCoordination(captureLogger([]), { directory })];
    try {
      assert.equal(await one.start(), true);
      assert.equal(await two.start(), true);
      rmSync(directory, { recursive: true, force: true });
      const lock = await one.lockSession('store', 'session-1');
      assert.equal(lock.exact, true);
      await lock.release();
      await (await two.lockSession('store', 'session-1')).release();
      // Window two finds its socket gone the next time it talks to the others.
      await two.exchange.pull('store');
      assert.equal((await one.describe()).otherWindows, 1, 'both windows listen again');
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it('a machine id left empty by a crash is replaced; windows go on coordinating', async () => {
    const directory = scratchDirectory();
    writeFileSync(join(directory, 'machine-id'), '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(directory, 'machine-id'), old, old);
    const coordination = new MachineCoordination(captureLogger([]), { directory });
    try {
      assert.equal(await coordination.start(), true);
      assert.match((await coordination.machineId())!, /^[0-9a-f]{32}$/);
      assert.equal((await coordination.lockSession('store', 'x')).exact, true);
    } finally {
      coordination.dispose();
    }
  });
});

describe('sessions under faults, against the test IdP', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
  });
  after(() => idp.close());

  /**
   * A signed-in session whose revision mark says another window wrote revision 7, which no window
   * and no storage has; `mark` is the mark's text. Asked for after its expiry, with the IdP's
   * counters reset. Returns what the test looks at.
   */
  async function askWithUnreachedRevision(mark: string): Promise<{ sessionId: string; served: unknown[]; listed: string[]; logs: string[] }> {
    const clock = movableClock();
    const directory = scratchDirectory();
    const logs: string[] = [];
    const coordination = new MachineCoordination(captureLogger(logs), { directory });
    const { manager } = deviceSessionManager(idp, createSharedSecrets().window(), { logger: captureLogger(logs), clock, scopes: fleetScopes, coordination, catchUpMs: 300 });
    try {
      const session = await manager.createSession(['profile']);
      await writeFile(refreshLockFiles(directory, manager.store.key, session.id).markPath, mark);
      clock.advance(2 * hour);
      idp.resetCounters();
      const served = await manager.getSessions(['profile']);
      const listed = (await manager.getSessions(undefined)).map((each) => each.id);
      return { sessionId: session.id, served, listed, logs };
    } finally {
      manager.dispose();
      coordination.dispose();
    }
  }

  it('another window wrote a newer revision and went away before anyone got it: the session is removed once with a clear log line, not asked for again and again', async () => {
    // A bare revision: a mark whose writer is not known is a writer gone.
    const { served, listed, logs } = await askWithUnreachedRevision('7');
    assert.deepEqual(served, []);
    assert.equal(idp.count('refresh'), 0, 'the spent refresh token is not replayed');
    assert.deepEqual(listed, [], 'removed, not listed any more');
    assert.ok(logs.some((line) => line.startsWith('warn') && /new tokens were lost/.test(line)), logs.join('\n'));
  });

  it('another window wrote a newer revision and still runs, but it has not arrived: this request fails, the session stays', async () => {
    // A live process of this machine that stands for the window that wrote revision 7.
    const writer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      const { sessionId, served, listed, logs } = await askWithUnreachedRevision(`7 ${hostname()} ${writer.pid}`);
      assert.deepEqual(served, []);
      assert.equal(idp.count('refresh'), 0, 'the spent refresh token is not replayed');
      assert.deepEqual(listed, [sessionId], 'still listed: not signed out');
      assert.ok(!logs.some((line) => /new tokens were lost/.test(line)), logs.join('\n'));
    } finally {
      writer.kill();
    }
  });

  it("another machine's lease that looks live for an hour (its clock runs ahead, then it went away): waited for at most the lease time, then taken over", { timeout: 30_000 }, async () => {
    const shared = createSharedSecrets();
    const clock = movableClock();
    const coordination = new MachineCoordination(captureLogger([]), { directory: scratchDirectory() });
    const { manager } = deviceSessionManager(idp, shared.window(), { clock, scopes: fleetScopes, coordination, leaseTiming: { settleMs: 50, leaseMs: 600 } });
    try {
      const session = await manager.createSession(['profile']);
      shared.backing.set('oauth-anywhere.machine:other', JSON.stringify({ seenAt: Date.now() }));
      clock.advance(2 * hour);
      shared.backing.set(`${manager.store.key}.refresh-lease:${session.id}`, JSON.stringify({ machine: 'other', until: clock.now() + hour }));
      idp.resetCounters();
      const started = Date.now();
      const [served] = await manager.getSessions(['profile']);
      assert.ok(served, 'served after taking the lease over');
      assert.equal(idp.count('refresh'), 1);
      assert.ok(Date.now() - started < 5_000, `within the lease time, not the hour (${Date.now() - started} ms)`);
    } finally {
      manager.dispose();
      coordination.dispose();
    }
  });

  it('a session a newer version of the extension took over is neither refreshed nor overwritten by this one', async () => {
    const shared = createSharedSecrets();
    const clock = movableClock();
    const { manager } = deviceSessionManager(idp, shared.window(), { clock, scopes: fleetScopes });
    manager.watch();
    const session = await manager.createSession(['profile']);
    const key = entryKey(identityOf(idp.issuer, idp.clientId), session.id);
    const entry = JSON.parse(shared.backing.get(key)!) as { revision: number };
    const newer = JSON.stringify({ ...entry, version: 3, revision: entry.revision + 1, extra: 'a field of format 3' });
    await shared.window().store(key, newer);
    await new Promise((resolve) => setTimeout(resolve, 50));
    clock.advance(2 * hour);
    idp.resetCounters();
    assert.deepEqual(await manager.getSessions(['profile']), [], 'left to the newer version');
    assert.equal(idp.count('refresh'), 0, 'its refresh token is not spent');
    assert.equal(await manager.removeSession(session.id), undefined, 'not signed out over its head');
    assert.equal(shared.backing.get(key), newer, 'its entry is exactly as it wrote it');
    manager.dispose();
  });
});

describe('sign-out marks outliving their time', () => {
  const identity = { providerId: 'oauth-anywhere', issuer: 'https://idp.example.test/', clientId: 'vscode-native' };
  const session: StoredSession = {
    id: 'a',
    account: { id: 'https://idp.example.test/#u', label: 'u' },
    scopes: ['openid'],
    tokens: { accessToken: 'access-a-0123456789', tokenType: 'bearer', obtainedAt: 1, expiresAt: 2, refreshToken: 'rt-a-0123456789', scopes: ['openid'] },
    createdAt: 1,
  };

  // Every setting where a mark written in one window reaches the others (with "never" it cannot).
  for (const { name, propagation } of propagationSettings.filter((setting) => setting.name !== 'never')) {
    it(`${name}: a mark older than 30 days in a long-running window is forgotten with the stored one, not written back again and again`, async () => {
      const shared = createSharedSecrets(undefined, propagation);
      let now = Date.now();
      const secrets = shared.window();
      const store = new SessionStore(secrets, identity, captureLogger([]), { reconcileDelayMs: 20, now: () => now });
      store.watch();
      await store.put(session);
      await store.remove('a');
      await shared.settled();
      now += 31 * day;
      const before = secrets.writes;
      const other = new SessionStore(shared.window(), identity, captureLogger([]), { reconcileDelayMs: 20, now: () => now });
      await other.all();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      store.dispose();
      other.dispose();
      assert.ok(secrets.writes - before < 3, `${secrets.writes - before} writes in a second`);
    });
  }
});
