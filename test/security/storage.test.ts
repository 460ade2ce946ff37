// What a provider finds in SecretStorage is not always what it wrote: a truncated write, an entry of
// a newer version of the extension (a local and a remote copy share one SecretStorage), another
// issuer's entry under this issuer's key (a settings mix-up, or tampering), or a document of the old
// one-document layout. Unreadable data is logged and set aside under `oauth-anywhere.unreadable:<key>`,
// never served and never a crash; data of a newer version is left exactly where it is; the sessions
// of another issuer / client id stay untouched and are still served by their own manager.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { legacyDocumentKey } from '../../src/auth/legacyDocument.js';
import type { SessionManager } from '../../src/auth/sessionManager.js';
import type { StoreIdentity } from '../../src/auth/sessionStore.js';
import { deviceSessionManager } from '../support/deviceSessionManager.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets, type SharedSecrets } from '../support/memorySecretStorage.js';
import { findLeaks } from '../support/secretLedger.js';
import { entryKey, identityOf, storedEntries, storedSessions } from '../support/storedSessions.js';

const scopes = ['openid', 'offline_access'];
const asideKey = (key: string) => `oauth-anywhere.unreadable:${key}`;

interface Provider {
  idp: TestIdp;
  manager: SessionManager;
  identity: StoreIdentity;
  logs: string[];
}

describe('stored sessions that cannot be trusted', () => {
  let idpA: TestIdp;
  let idpB: TestIdp;
  let shared: SharedSecrets;
  const managers: SessionManager[] = [];

  function provider(idp: TestIdp): Provider {
    const logs: string[] = [];
    const { manager, client } = deviceSessionManager(idp, shared.window(), { logger: captureLogger(logs), scopes });
    managers.push(manager);
    return { idp, manager, logs, identity: identityOf(client.issuer, client.clientId) };
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

  /** B signs in for real; its entry is what must survive A's trouble. */
  async function otherIssuerSignedIn(): Promise<{ b: Provider; raw: string; sessionId: string }> {
    const b = provider(idpB);
    const session = await b.manager.createSession([]);
    return { b, raw: shared.backing.get(entryKey(b.identity, session.id))!, sessionId: session.id };
  }

  /** A signs in, then `raw` is found under the key of a second session of A. */
  async function assertSetAsideAndOthersIntact(raw: string, reason: RegExp, label: string): Promise<void> {
    const { b, raw: rawB, sessionId } = await otherIssuerSignedIn();
    const a = provider(idpA);
    const good = await a.manager.createSession([]);
    const badKey = entryKey(a.identity, 'bad-session');
    shared.backing.set(badKey, raw);

    const reader = provider(idpA);
    const served = await reader.manager.getSessions(undefined);
    assert.deepEqual(served.map((session) => session.id), [good.id], `${label}: the bad entry is not served, the good one is`);
    assert.equal(shared.backing.get(asideKey(badKey)), raw, `${label}: kept as it was under the unreadable key`);
    assert.equal(shared.backing.get(badKey), undefined, `${label}: its key is cleared`);
    const warning = reader.logs.filter((line) => line.startsWith('warn') && line.includes(asideKey(badKey)));
    assert.equal(warning.length, 1, `${label}: one log line says so: ${reader.logs.join(' | ')}`);
    assert.match(warning[0]!, reason, `${label}: the log says why`);
    assert.deepEqual(findLeaks(reader.logs.join('\n'), [...idpA.issued, ...idpB.issued]), [], `${label}: the log does not quote the entry's tokens`);

    // The other issuer's sessions: untouched in storage, still served by their own manager.
    assert.equal(shared.backing.get(entryKey(b.identity, sessionId)), rawB, `${label}: the other issuer's entry is untouched`);
    const sessionsB = await provider(idpB).manager.getSessions(['openid']);
    assert.deepEqual(sessionsB.map((session) => session.id), [sessionId], `${label}: the other issuer's session is still served`);
    assert.equal((await idpB.userinfo(sessionsB[0]!.accessToken)).status, 200);
    assert.deepEqual(b.logs.filter((line) => line.startsWith('warn')), [], `${label}: nothing to warn about for the other issuer`);

    // And the provider carries on: signing in again works and is served.
    const fresh = await reader.manager.createSession(['email']);
    assert.ok((await reader.manager.getSessions(['email'])).some((session) => session.id === fresh.id), `${label}: signs in again`);
    assert.equal(shared.backing.get(asideKey(badKey)), raw, `${label}: the set-aside copy is kept`);
  }

  it('a corrupt (truncated) entry', async () => {
    await assertSetAsideAndOthersIntact('{"version":2,"id":"bad-session","session":{"tokens":{"accessTo', /not valid JSON/, 'corrupt');
  });

  it("another issuer's entry under this issuer's key is not served as this issuer's", async () => {
    // B's real entry, with B's live tokens in it, copied under A's key.
    const donor = provider(idpB);
    const session = await donor.manager.createSession([]);
    const foreign = JSON.parse(shared.backing.get(entryKey(donor.identity, session.id))!) as { id: string; session: { id: string } };
    foreign.id = foreign.session.id = 'bad-session';
    await assertSetAsideAndOthersIntact(JSON.stringify(foreign), /different issuer or client id/, 'different issuer');
  });

  it("the same issuer's entry for another client id is not served either", async () => {
    const a = provider(idpA);
    const session = await a.manager.createSession([]);
    const entry = JSON.parse(shared.backing.get(entryKey(a.identity, session.id))!) as { id: string; clientId: string; session: { id: string } };
    entry.clientId = 'some-other-client';
    entry.id = entry.session.id = 'bad-session';
    shared.backing.clear();
    managers.splice(0).forEach((manager) => manager.dispose());
    await assertSetAsideAndOthersIntact(JSON.stringify(entry), /different issuer or client id/, 'other client id');
  });

  it('an entry whose id does not match its key', async () => {
    const a = provider(idpA);
    const session = await a.manager.createSession([]);
    const copied = shared.backing.get(entryKey(a.identity, session.id))!;
    shared.backing.clear();
    managers.splice(0).forEach((manager) => manager.dispose());
    await assertSetAsideAndOthersIntact(copied, /does not match its key/, 'moved entry');
  });

  for (const [name, raw] of [['JSON null', 'null'], ['a JSON array', '[]'], ['a JSON string', '"sessions"'], ['an empty string', ''], ['version 1 (not an entry version)', '{"version":1}']] as const) {
    it(`an entry that is ${name}`, async () => {
      await assertSetAsideAndOthersIntact(raw, /could not be read/, name);
    });
  }

  it('an entry written by a newer version is left exactly where it is, not served, not set aside', async () => {
    const a = provider(idpA);
    const session = await a.manager.createSession([]);
    const newerKey = entryKey(a.identity, 'from-the-future');
    const newer = JSON.stringify({ version: 3, id: 'from-the-future', whatever: { shape: 'it likes' } });
    shared.backing.set(newerKey, newer);
    const reader = provider(idpA);
    assert.deepEqual((await reader.manager.getSessions(undefined)).map((served) => served.id), [session.id]);
    await reader.manager.createSession(['email']);
    await shared.settled();
    assert.equal(shared.backing.get(newerKey), newer, 'untouched');
    assert.equal(shared.backing.get(asideKey(newerKey)), undefined, 'not set aside');
    assert.ok(reader.logs.some((line) => /newer version/.test(line) && /format 3/.test(line)), reader.logs.join(' | '));
  });

  it('a document of the old one-document layout is moved to one entry per session, then deleted', async () => {
    const a = provider(idpA);
    const [first, second] = [await a.manager.createSession(['profile']), await a.manager.createSession(['email'])];
    const sessions = storedSessions(shared.backing, a.identity);
    shared.backing.clear();
    const legacyKey = legacyDocumentKey('oauth-anywhere', a.identity);
    shared.backing.set(legacyKey, JSON.stringify({ version: 1, issuer: a.identity.issuer, clientId: a.identity.clientId, sessions: [...sessions, { id: 'broken', tokens: null }] }));
    const reader = provider(idpA);
    const served = await reader.manager.getSessions(['openid']);
    assert.deepEqual(served.map((session) => session.id).sort(), [first.id, second.id].sort());
    assert.equal(shared.backing.get(legacyKey), undefined, 'the old document is gone');
    assert.deepEqual(storedSessions(shared.backing, a.identity).map((session) => session.id).sort(), [first.id, second.id].sort());
    assert.ok(reader.logs.some((line) => /Moved 2 session\(s\)/.test(line) && /1 unreadable/.test(line)), reader.logs.join(' | '));
    assert.equal((await idpA.userinfo(served[0]!.accessToken)).status, 200);
  });

  it('an old-layout document of a newer version is left alone', async () => {
    const a = provider(idpA);
    const legacyKey = legacyDocumentKey('oauth-anywhere', a.identity);
    const document = JSON.stringify({ version: 7, sessions: 'elsewhere' });
    shared.backing.set(legacyKey, document);
    assert.deepEqual(await a.manager.getSessions(undefined), []);
    assert.equal(shared.backing.get(legacyKey), document);
    assert.equal(shared.backing.get(asideKey(legacyKey)), undefined);
  });

  it('a corrupt old-layout document is set aside', async () => {
    const a = provider(idpA);
    const legacyKey = legacyDocumentKey('oauth-anywhere', a.identity);
    shared.backing.set(legacyKey, '{"version":1,"sessions":[tru');
    assert.deepEqual(await a.manager.getSessions(undefined), []);
    assert.equal(shared.backing.get(asideKey(legacyKey)), '{"version":1,"sessions":[tru');
    assert.equal(shared.backing.get(legacyKey), undefined);
  });

  it('garbage written over the entry of a running window: the window keeps its copy, sets the garbage aside and writes the session back', async () => {
    const logs: string[] = [];
    const { manager } = deviceSessionManager(idpA, shared.window(), { logger: captureLogger(logs), scopes, reconcileDelayMs: 20 });
    managers.push(manager);
    manager.watch();
    const removed: string[] = [];
    manager.onDidChangeSessions((changes) => removed.push(...changes.removed.map((gone) => gone.id)));
    const session = await manager.createSession([]);
    const identity = identityOf(idpA.issuer, idpA.clientId);
    const key = entryKey(identity, session.id);
    const good = shared.backing.get(key);
    // Another process writes garbage under the key (SecretStorage reports it like any change).
    await shared.window().store(key, '\u0000garbage');
    for (let turn = 0; turn < 300 && shared.backing.get(key) !== good; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(shared.backing.get(key), good, 'the session is written back');
    assert.equal(shared.backing.get(asideKey(key)), '\u0000garbage');
    assert.deepEqual(removed, []);
    assert.deepEqual((await manager.getSessions(['openid'])).map((served) => served.id), [session.id]);
    assert.equal(storedEntries(shared.backing, identity).length, 1);
  });
});
