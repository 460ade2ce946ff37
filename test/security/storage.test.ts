// What a provider finds under its SecretStorage key is not always what it wrote: a truncated write, a
// document from another version of the extension, or another issuer's document under this key (a
// settings mix-up, or tampering). Each is logged and set aside under `<key>.unreadable`, never served
// and never a crash; the sessions of another issuer / client id under their own key stay untouched
// and are still served by their own manager.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SessionManager } from '../../src/auth/sessionManager.js';
import { storageKey } from '../../src/auth/sessionStore.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets, type SharedSecrets } from '../support/memorySecretStorage.js';
import { findLeaks } from '../support/secretLedger.js';
import { deviceSessionManager } from '../support/deviceSessionManager.js';

const scopes = ['openid', 'profile', 'email', 'offline_access'];

interface Provider {
  idp: TestIdp;
  manager: SessionManager;
  key: string;
  logs: string[];
}

describe('stored session documents that cannot be trusted', () => {
  let idpA: TestIdp;
  let idpB: TestIdp;
  let shared: SharedSecrets;
  const managers: SessionManager[] = [];

  function provider(idp: TestIdp): Provider {
    const logs: string[] = [];
    const logger = captureLogger(logs);
    const { manager, client } = deviceSessionManager(idp, shared.window(), { logger, scopes });
    managers.push(manager);
    return { idp, manager, logs, key: storageKey({ providerId: 'oauth-anywhere', issuer: client.issuer.href, clientId: client.clientId }) };
  }

  before(async () => {
    idpA = await startTestIdp({ deviceInterval: 0.02 });
    // Another issuer, with another client id.
    idpB = await startTestIdp({ deviceInterval: 0.02, clientId: 'another-client' });
  });
  after(async () => {
    await idpA.close();
    await idpB.close();
  });
  beforeEach(() => {
    for (const manager of managers.splice(0)) manager.dispose();
    shared = createSharedSecrets();
  });

  /** B signs in for real; its document is what must survive A's trouble. */
  async function otherIssuerSignedIn(): Promise<{ b: Provider; raw: string; sessionId: string }> {
    const b = provider(idpB);
    const session = await b.manager.createSession([]);
    return { b, raw: shared.backing.get(b.key)!, sessionId: session.id };
  }

  async function assertSetAsideAndOthersIntact(raw: string, reason: RegExp, label: string): Promise<void> {
    const { b, raw: rawB, sessionId } = await otherIssuerSignedIn();
    const a = provider(idpA);
    shared.backing.set(a.key, raw);

    const served = await a.manager.getSessions(undefined);
    assert.deepEqual(served, [], `${label}: nothing served from it`);
    assert.deepEqual(await a.manager.getSessions(['openid']), []);
    assert.equal(shared.backing.get(`${a.key}.unreadable`), raw, `${label}: kept as it was under <key>.unreadable`);
    assert.equal(shared.backing.get(a.key), undefined, `${label}: the key itself is cleared`);
    const warning = a.logs.filter((line) => line.startsWith('warn') && line.includes(`${a.key}.unreadable`));
    assert.equal(warning.length, 1, `${label}: one log line says so: ${a.logs.join(' | ')}`);
    assert.match(warning[0]!, reason, `${label}: the log says why`);
    assert.deepEqual(findLeaks(a.logs.join('\n'), [...idpA.issued, ...idpB.issued]), [], `${label}: the log does not quote the document's tokens`);

    // The other issuer's sessions: untouched in storage, still served by their own manager.
    assert.equal(shared.backing.get(b.key), rawB, `${label}: the other document is untouched`);
    const sessionsB = await provider(idpB).manager.getSessions(['openid']);
    assert.deepEqual(sessionsB.map((session) => session.id), [sessionId], `${label}: the other issuer's session is still served`);
    assert.equal((await idpB.userinfo(sessionsB[0]!.accessToken)).status, 200);
    assert.deepEqual(b.logs.filter((line) => line.startsWith('warn')), [], `${label}: nothing to warn about for the other issuer`);

    // And the provider carries on: signing in again works and is served.
    const fresh = await a.manager.createSession([]);
    assert.deepEqual((await a.manager.getSessions(['openid'])).map((session) => session.id), [fresh.id], `${label}: signs in again`);
    assert.equal(shared.backing.get(`${a.key}.unreadable`), raw, `${label}: the set-aside copy is kept`);
  }

  it('a corrupt (truncated) document', async () => {
    await assertSetAsideAndOthersIntact('{"version":1,"issuer":"x","sessions":[{"id":"s1","tokens":{"accessTo', /not valid JSON/, 'corrupt');
  });

  it('a document of an unknown version', async () => {
    const a = provider(idpA);
    const document = { version: 2, issuer: new URL(idpA.issuer).href, clientId: idpA.clientId, sessions: [] };
    await assertSetAsideAndOthersIntact(JSON.stringify(document), /unknown version 2/, `unknown version (key ${a.key})`);
  });

  it("another issuer's document under this issuer's key is not served as this issuer's", async () => {
    // B's real document, with B's live tokens in it, copied under A's key.
    const donor = provider(idpB);
    await donor.manager.createSession([]);
    const foreign = shared.backing.get(donor.key)!;
    await assertSetAsideAndOthersIntact(foreign, /different issuer or client id/, 'different issuer');
  });

  it("the same issuer's document for another client id is not served either", async () => {
    const a = provider(idpA);
    const session = await a.manager.createSession([]);
    const document = JSON.parse(shared.backing.get(a.key)!) as { clientId: string };
    document.clientId = 'some-other-client';
    shared.backing.clear();
    managers.splice(0).forEach((manager) => manager.dispose());
    await assertSetAsideAndOthersIntact(JSON.stringify(document), /different issuer or client id/, `other client id (session ${session.id})`);
  });

  for (const [name, raw] of [['JSON null', 'null'], ['a JSON array', '[]'], ['a JSON string', '"sessions"'], ['an empty string', '']] as const) {
    it(`a document that is ${name}`, async () => {
      await assertSetAsideAndOthersIntact(raw, /could not be read/, name);
    });
  }

  it('one unreadable session in a readable document: the others are served, the bad one is skipped and logged', async () => {
    const a = provider(idpA);
    const session = await a.manager.createSession([]);
    const document = JSON.parse(shared.backing.get(a.key)!) as { sessions: unknown[] };
    document.sessions.push({ id: 'broken', account: { id: 7 }, tokens: null }, 'not a session');
    shared.backing.set(a.key, JSON.stringify(document));
    const reader = provider(idpA);
    const served = await reader.manager.getSessions(['openid']);
    assert.deepEqual(served.map((candidate) => candidate.id), [session.id]);
    assert.equal(shared.backing.get(`${a.key}.unreadable`), undefined, 'a readable document is not set aside');
    assert.ok(reader.logs.some((line) => line.startsWith('warn') && /Skipped 2 unreadable session/.test(line)), reader.logs.join(' | '));
  });

  it('a window that is running when the document turns unreadable drops the session, fires "removed" and does not crash', async () => {
    const a = provider(idpA);
    a.manager.watch();
    const removed: string[] = [];
    a.manager.onDidChangeSessions((changes) => removed.push(...changes.removed.map((gone) => gone.id)));
    const session = await a.manager.createSession([]);
    // Another process writes garbage under the key (SecretStorage reports it like any change).
    await shared.window().store(a.key, '\u0000garbage');
    for (let turn = 0; turn < 300 && !removed.length; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(removed, [session.id]);
    assert.deepEqual(await a.manager.getSessions(undefined), []);
    assert.equal(shared.backing.get(`${a.key}.unreadable`), '\u0000garbage');
  });
});
