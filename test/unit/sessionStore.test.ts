import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MachineCoordination } from '../../src/auth/coordination.js';
import { SessionStore, type SecretStoragePort, type SessionChanges, type StoreIdentity, type StoredSession } from '../../src/auth/sessionStore.js';
import type { Logger } from '../../src/oauth/types.js';
import { createSharedSecrets, delayed, never, type MemorySecretStorage } from '../support/memorySecretStorage.js';
import { scratchDirectory } from '../support/scratch.js';
import { entryKey, storedEntries, storedSessions } from '../support/storedSessions.js';

const identity: StoreIdentity = { providerId: 'oauth-anywhere', issuer: 'https://idp.example.test/', clientId: 'vscode-native' };

function session(id: string, accessToken = `access-${id}-0123456789`): StoredSession {
  return {
    id,
    account: { id: `https://idp.example.test/#user-${id}`, label: `user ${id}` },
    scopes: ['openid', 'profile'],
    tokens: { accessToken, tokenType: 'bearer', obtainedAt: 1_000, expiresAt: 3_601_000, refreshToken: `refresh-${id}-0123456789`, scopes: ['openid', 'profile'] },
    createdAt: 1_000,
  };
}

function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function store(secrets: SecretStoragePort, reconcileDelayMs = 20): SessionStore {
  return new SessionStore(secrets, identity, capturingLogger(), { reconcileDelayMs });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 500; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never happened: ${what}`);
}

const ids = (sessions: readonly StoredSession[]) => sessions.map((each) => each.id).sort();

describe('SessionStore', () => {
  test('what one store writes, a fresh store over the same storage reads back unchanged', async () => {
    const shared = createSharedSecrets();
    await store(shared.window()).put(session('a'));
    assert.deepEqual(await store(shared.window()).all(), [session('a')]);
  });

  test('each session has an entry of its own, with a revision that grows with every write', async () => {
    const shared = createSharedSecrets();
    const writer = store(shared.window());
    await writer.put(session('a'));
    await writer.put(session('b'));
    await writer.put(session('a', 'access-a-second-0123456789'));
    const entries = storedEntries(shared.backing, identity);
    assert.deepEqual(entries.map((entry) => [entry.id, entry.revision]).sort(), [['a', 2], ['b', 1]]);
    assert.deepEqual(shared.backing.get(entryKey(identity, 'b')), JSON.stringify(storedEntries(shared.backing, identity).find((entry) => entry.id === 'b')));
  });

  test('removing a session leaves a sign-out mark, and a write of the same session is then refused', async () => {
    const shared = createSharedSecrets();
    const writer = store(shared.window());
    await writer.put(session('a'));
    assert.deepEqual(await writer.remove('a'), session('a'));
    assert.deepEqual(storedEntries(shared.backing, identity).map((entry) => [entry.id, entry.removed, entry.revision]), [['a', true, 2]]);
    await assert.rejects(writer.put(session('a')), /signed out/);
    assert.deepEqual(await store(shared.window()).all(), []);
    assert.equal(await writer.remove('a'), undefined, 'removing twice is a no-op');
  });

  test('two windows writing two sessions at once under 250 ms propagation: neither write touches the other session', async () => {
    const shared = createSharedSecrets(undefined, delayed(250));
    const one = store(shared.window());
    const two = store(shared.window());
    await one.put(session('a'));
    await shared.settled();
    await two.all();
    await Promise.all([one.put(session('a', 'access-a-by-one-0123456789')), two.put(session('b', 'access-b-by-two-0123456789'))]);
    await shared.settled();
    const stored = storedSessions(shared.backing, identity);
    assert.deepEqual(stored.map((each) => each.tokens.accessToken).sort(), ['access-a-by-one-0123456789', 'access-b-by-two-0123456789']);
  });

  test('a write in one window fires added, changed and removed in the other once it arrives', async () => {
    const shared = createSharedSecrets(undefined, delayed(120));
    const one = store(shared.window());
    const two = store(shared.window());
    two.watch();
    await two.all();
    const seen: SessionChanges[] = [];
    two.onChange((changes) => seen.push(changes));
    await one.put(session('a'));
    await until(() => seen.length === 1, 'added arrives');
    await one.put(session('a', 'access-a-new-0123456789'));
    await until(() => seen.length === 2, 'changed arrives');
    await one.remove('a');
    await until(() => seen.length === 3, 'removed arrives');
    assert.deepEqual(seen.map((changes) => [changes.added.length, changes.changed.length, changes.removed.length]), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  });

  test('an older revision arriving in storage (a late write) is ignored and storage is put right', async () => {
    const shared = createSharedSecrets();
    const writer = store(shared.window());
    writer.watch();
    await writer.put(session('a'));
    const old = shared.backing.get(entryKey(identity, 'a'))!;
    await writer.put(session('a', 'access-a-newer-0123456789'));
    const newer = shared.backing.get(entryKey(identity, 'a'))!;
    const changes: SessionChanges[] = [];
    writer.onChange((change) => changes.push(change));
    await shared.window().store(entryKey(identity, 'a'), old);
    await until(() => shared.backing.get(entryKey(identity, 'a')) === newer, 'the newer entry is written back');
    assert.equal((await writer.session('a'))?.tokens.accessToken, 'access-a-newer-0123456789');
    assert.deepEqual(changes, []);
  });

  test('code-server tabs (storage never propagates): without a way between them, one tab\'s stale whole-copy write undoes the other\'s', async () => {
    const shared = createSharedSecrets(undefined, never);
    const one = store(shared.window());
    await one.put(session('a'));
    await shared.settled();
    const two = store(shared.window());
    await two.all();
    await one.put(session('a', 'access-a-newer-0123456789'));
    await shared.settled();
    await two.put(session('b'));
    await shared.settled();
    assert.equal(storedSessions(shared.backing, identity).find((each) => each.id === 'a')?.tokens.accessToken, 'access-a-0123456789');
  });

  test('code-server tabs with the peer exchange: the other tab takes the newer entry at once, so its next whole-copy write carries it', async () => {
    const shared = createSharedSecrets(undefined, never);
    const directory = scratchDirectory();
    const coordinations = [new MachineCoordination(capturingLogger(), { directory }), new MachineCoordination(capturingLogger(), { directory })];
    try {
      const [one, two] = coordinations.map((coordination) => new SessionStore(shared.window(), identity, capturingLogger(), { exchange: coordination.exchange }));
      one!.watch();
      two!.watch();
      await one!.put(session('a'));
      await two!.all();
      assert.deepEqual(ids(await two!.all()), ['a'], 'tab two learned of a from tab one, not from storage');
      await one!.put(session('a', 'access-a-newer-0123456789'));
      assert.equal((await two!.session('a'))?.tokens.accessToken, 'access-a-newer-0123456789', 'handed over before put() returned');
      await two!.put(session('b'));
      await shared.settled();
      const stored = storedSessions(shared.backing, identity);
      assert.equal(stored.find((each) => each.id === 'a')?.tokens.accessToken, 'access-a-newer-0123456789');
      assert.deepEqual(ids(stored), ['a', 'b']);
    } finally {
      for (const coordination of coordinations) coordination.dispose();
    }
  });

  test('a failed first read is not cached: the next call reads again', async () => {
    const shared = createSharedSecrets();
    await store(shared.window()).put(session('a'));
    const window = shared.window();
    let failNext = true;
    const flaky: SecretStoragePort = {
      get: (key) => window.get(key),
      store: (key, value) => window.store(key, value),
      delete: (key) => window.delete(key),
      onDidChange: (listener) => window.onDidChange(listener),
      keys: async () => {
        if (failNext) {
          failNext = false;
          throw new Error('storage is locked');
        }
        return window.keys();
      },
    };
    const reader = store(flaky);
    await assert.rejects(reader.all(), /storage is locked/);
    assert.deepEqual(ids(await reader.all()), ['a']);
  });

  test('a failed write keeps the session in the window and stores it later', async () => {
    const shared = createSharedSecrets();
    const window = shared.window();
    let failures = 2;
    const logger = capturingLogger();
    const failing: SecretStoragePort = {
      get: (key) => window.get(key),
      keys: () => window.keys(),
      delete: (key) => window.delete(key),
      onDidChange: (listener) => window.onDidChange(listener),
      store: async (key, value) => {
        if (failures-- > 0) throw new Error('keyring unavailable');
        return window.store(key, value);
      },
    };
    const writer = new SessionStore(failing, identity, logger, { reconcileDelayMs: 10 });
    await writer.put(session('a'));
    assert.deepEqual(ids(await writer.all()), ['a'], 'served from the window at once');
    await until(() => storedSessions(shared.backing, identity).length === 1, 'stored after the retries');
    assert.ok(logger.lines.some((line) => line.startsWith('warn') && /Could not save the session/.test(line)));
  });

  test('the first read lists the keys and reads each entry once, however many callers wait', async () => {
    const shared = createSharedSecrets();
    const writer = store(shared.window());
    for (const id of ['a', 'b', 'c']) await writer.put(session(id));
    const window: MemorySecretStorage = shared.window();
    const reader = store(window);
    await Promise.all(Array.from({ length: 100 }, () => reader.all()));
    assert.equal(window.reads, 4);
  });

  test('entries of other providers, issuers and client ids are not read', async () => {
    const shared = createSharedSecrets();
    await new SessionStore(shared.window(), { ...identity, clientId: 'other' }, capturingLogger()).put(session('x'));
    await new SessionStore(shared.window(), { ...identity, providerId: 'oauth-anywhere.work' }, capturingLogger()).put(session('y'));
    await store(shared.window()).put(session('a'));
    assert.deepEqual(ids(await store(shared.window()).all()), ['a']);
  });
});
