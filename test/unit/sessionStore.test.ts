import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SessionStore, storageKey, type SessionChanges, type StoreIdentity, type StoredSession } from '../../src/auth/sessionStore.js';
import type { Logger } from '../../src/oauth/types.js';
import { createSharedSecrets, type MemorySecretStorage } from '../support/memorySecretStorage.js';

const identity: StoreIdentity = { providerId: 'oauth-anywhere', issuer: 'https://idp.example.test/', clientId: 'vscode-native' };
const key = storageKey(identity);
const asideKey = `${key}.unreadable`;

function session(id: string, accessToken = `access-${id}-0123456789`): StoredSession {
  return {
    id,
    account: { id: `https://idp.example.test/|user-${id}`, label: `user ${id}` },
    scopes: ['openid', 'profile'],
    tokens: { accessToken, tokenType: 'bearer', obtainedAt: 1_000, expiresAt: 3_601_000, refreshToken: `refresh-${id}-0123456789`, scopes: ['openid', 'profile'] },
    createdAt: 1_000,
  };
}

function document(sessions: unknown[], overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, issuer: identity.issuer, clientId: identity.clientId, sessions, ...overrides });
}

interface CapturedLogger extends Logger {
  lines: string[];
}

function capturingLogger(): CapturedLogger {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Lets every queued storage round trip and change event run (the stand-in settles each on setImmediate). */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
}

function nextChange(store: SessionStore): Promise<SessionChanges> {
  return new Promise((resolve) => {
    const subscription = store.onChange((changes) => {
      subscription.dispose();
      resolve(changes);
    });
  });
}

const ids = (sessions: readonly StoredSession[]) => sessions.map((each) => each.id);

function twoWindows(): { a: SessionStore; b: SessionStore; secretsA: MemorySecretStorage; secretsB: MemorySecretStorage; backing: Map<string, string> } {
  const shared = createSharedSecrets();
  const secretsA = shared.window();
  const secretsB = shared.window();
  return {
    a: new SessionStore(secretsA, identity, capturingLogger()),
    b: new SessionStore(secretsB, identity, capturingLogger()),
    secretsA,
    secretsB,
    backing: shared.backing,
  };
}

describe('SessionStore', () => {
  test('what one store writes, a fresh store over the same storage reads back unchanged', async () => {
    const { a, b, backing } = twoWindows();
    const written = [session('s1'), session('s2')];
    await a.update(() => written);
    assert.ok(backing.has(key));
    assert.deepEqual(await b.all(), written);
    assert.deepEqual(await a.all(), written);
  });

  test('removing the last session deletes the key', async () => {
    const { a, backing } = twoWindows();
    await a.update(() => [session('s1')]);
    await a.update(() => []);
    assert.equal(backing.has(key), false);
    assert.deepEqual(await a.all(), []);
  });

  test('the key names the provider, issuer and client id', () => {
    assert.ok(key.includes(identity.providerId) && key.includes(identity.issuer) && key.includes(identity.clientId));
    assert.notEqual(storageKey({ ...identity, clientId: 'other' }), key);
  });

  describe('two windows over one storage', () => {
    test('a write in one window fires added, changed and removed in the other after watch()', async () => {
      const { a, b } = twoWindows();
      b.watch();
      await b.all();

      let change = nextChange(b);
      await a.update(() => [session('s1')]);
      assert.deepEqual(await change, { added: [session('s1')], removed: [], changed: [] });

      change = nextChange(b);
      const refreshed = session('s1', 'access-s1-rotated-999');
      await a.update(() => [refreshed]);
      assert.deepEqual(await change, { added: [], removed: [], changed: [refreshed] });

      change = nextChange(b);
      await a.update(() => []);
      assert.deepEqual(await change, { added: [], removed: [refreshed], changed: [] });
      assert.deepEqual(await b.all(), []);
    });

    test('each change is reported once in every window, the writer included', async () => {
      const { a, b } = twoWindows();
      a.watch();
      b.watch();
      await Promise.all([a.all(), b.all()]);
      const seenA: SessionChanges[] = [];
      const seenB: SessionChanges[] = [];
      a.onChange((changes) => seenA.push(changes));
      b.onChange((changes) => seenB.push(changes));

      await a.update(() => [session('s1')]);
      await settle();
      assert.equal(seenA.length, 1, 'the writer hears its own change once, not again from its own storage event');
      assert.equal(seenB.length, 1);
      assert.deepEqual(ids(seenB[0]!.added), ['s1']);
    });

    test('without watch(), the other window does not react', async () => {
      const { a, b, secretsB } = twoWindows();
      await b.all();
      const seen: SessionChanges[] = [];
      b.onChange((changes) => seen.push(changes));
      await a.update(() => [session('s1')]);
      await settle();
      assert.equal(seen.length, 0);
      assert.equal(secretsB.reads, 1);
    });

    test('after dispose(), storage events are ignored', async () => {
      const { a, b, secretsB } = twoWindows();
      const watching = b.watch();
      await b.all();
      watching.dispose();
      await a.update(() => [session('s1')]);
      await settle();
      assert.equal(secretsB.reads, 1);
    });

    test('update re-reads storage first, so the other window\'s newer write is kept', async () => {
      const { a, b, backing } = twoWindows();
      assert.deepEqual(await a.all(), []); // a caches "no sessions"
      await b.update((sessions) => [...sessions, session('from-b')]);
      // a never heard of from-b (no watch), yet its update must not drop it.
      const result = await a.update((sessions) => [...sessions, session('from-a')]);
      assert.deepEqual(ids(result).sort(), ['from-a', 'from-b']);
      const stored = JSON.parse(backing.get(key)!) as { sessions: StoredSession[] };
      assert.deepEqual(ids(stored.sessions).sort(), ['from-a', 'from-b']);
    });

    test('concurrent updates in one window are applied one after another, none lost', async () => {
      const { a, backing } = twoWindows();
      await Promise.all(['s1', 's2', 's3'].map((id) => a.update((sessions) => [...sessions, session(id)])));
      const stored = JSON.parse(backing.get(key)!) as { sessions: StoredSession[] };
      assert.deepEqual(ids(stored.sessions).sort(), ['s1', 's2', 's3']);
    });
  });

  describe('an unreadable document', () => {
    const unreadable: Array<[string, string, RegExp]> = [
      ['invalid JSON', '{"version":1,"sessions":[{"tokens":{"accessToken":"at-inside-corrupt-doc"', /not valid JSON/],
      ['an unknown version', document([session('s1', 'at-inside-v2-doc')], { version: 2 }), /unknown version 2/],
      ['a document of a different issuer', document([session('s1', 'at-inside-foreign-doc')], { issuer: 'https://other.example.test/' }), /different issuer/],
      ['a JSON array', '["at-inside-array-doc"]', /not a JSON object/],
      ['a document without a session list', document([], { sessions: 'at-inside-bad-list' }), /no session list/],
    ];

    for (const [name, raw, reason] of unreadable) {
      test(`${name}: set aside under <key>.unreadable, logged without its content, treated as empty`, async () => {
        const shared = createSharedSecrets([[key, raw]]);
        const logger = capturingLogger();
        const store = new SessionStore(shared.window(), identity, logger);

        assert.deepEqual(await store.all(), []);
        assert.equal(shared.backing.get(asideKey), raw);
        assert.equal(shared.backing.has(key), false);

        const warnings = logger.lines.filter((line) => line.startsWith('warn: '));
        assert.equal(warnings.length, 1);
        assert.match(warnings[0]!, reason);
        assert.ok(warnings[0]!.includes(asideKey));
        assert.ok(!logger.lines.some((line) => line.includes('at-inside')), 'the document may hold tokens; the log must not');

        await store.update(() => [session('fresh')]);
        assert.deepEqual(ids(await new SessionStore(shared.window(), identity, logger).all()), ['fresh']);
      });
    }

    test('one malformed session is skipped, the valid ones are kept, and the skip is logged', async () => {
      const broken = { ...session('broken'), tokens: { tokenType: 'bearer', refreshToken: 'rt-of-broken-session' } };
      const wrongScopes = { ...session('wrong-scopes'), scopes: 'openid' };
      const raw = document([session('s1'), broken, wrongScopes, session('s2'), null]);
      const shared = createSharedSecrets([[key, raw]]);
      const logger = capturingLogger();
      const store = new SessionStore(shared.window(), identity, logger);

      assert.deepEqual(ids(await store.all()), ['s1', 's2']);
      assert.equal(shared.backing.get(key), raw, 'a partly readable document is not set aside');
      assert.equal(shared.backing.has(asideKey), false);
      assert.ok(logger.lines.some((line) => line.startsWith('warn: ') && line.includes('3')));
      assert.ok(!logger.lines.some((line) => line.includes('rt-of-broken-session')));
    });
  });

  describe('reads', () => {
    test('all() reads storage once for many concurrent callers', async () => {
      const shared = createSharedSecrets([[key, document([session('s1')])]]);
      const secrets = shared.window();
      const store = new SessionStore(secrets, identity, capturingLogger());
      const results = await Promise.all(Array.from({ length: 20 }, () => store.all()));
      assert.equal(secrets.reads, 1);
      for (const result of results) assert.deepEqual(ids(result), ['s1']);
    });

    test('all() after the first answer is served from the cache', async () => {
      const shared = createSharedSecrets([[key, document([session('s1')])]]);
      const secrets = shared.window();
      const store = new SessionStore(secrets, identity, capturingLogger());
      await store.all();
      await store.all();
      await store.all();
      assert.equal(secrets.reads, 1);
      assert.equal(secrets.writes, 0);
    });

    test('reload() reads again and reports the difference', async () => {
      const shared = createSharedSecrets([[key, document([session('s1')])]]);
      const store = new SessionStore(shared.window(), identity, capturingLogger());
      await store.all();
      shared.backing.set(key, document([session('s1'), session('s2')]));
      const change = nextChange(store);
      assert.deepEqual(ids(await store.reload()), ['s1', 's2']);
      assert.deepEqual(ids((await change).added), ['s2']);
    });
  });
});
