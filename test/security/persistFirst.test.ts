// Once the token endpoint answered 200 to a refresh, the identity provider has spent the old refresh
// token: the new tokens must be stored before anything else can fail (fetching the keys for the ID
// token, checking its claims, writing to storage), or the next refresh replays a spent token and the
// session (with rotating refresh tokens: the whole grant) is lost.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SecretStoragePort } from '../../src/auth/sessionStore.js';
import { deviceSessionManager } from '../support/deviceSessionManager.js';
import { movableClock } from '../support/clocks.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets } from '../support/memorySecretStorage.js';
import { findLeaks } from '../support/secretLedger.js';
import { identityOf, storedSessions } from '../support/storedSessions.js';

const hour = 3_600_000;

describe('refresh results are kept before anything else can fail', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
  });
  after(() => idp.close());

  /** A window that signed in, and a second window (a fresh client: it has not fetched the IdP's keys yet). */
  async function signedIn(secretsFor?: (window: SecretStoragePort) => SecretStoragePort) {
    const shared = createSharedSecrets();
    const clock = movableClock();
    const { manager: first } = deviceSessionManager(idp, shared.window(), { clock });
    const session = await first.createSession([]);
    first.dispose();
    const logs: string[] = [];
    const window = shared.window();
    const { manager } = deviceSessionManager(idp, secretsFor ? secretsFor(window) : window, { clock, logger: captureLogger(logs), reconcileDelayMs: 20 });
    const stored = () => storedSessions(shared.backing, identityOf(idp.issuer, idp.clientId));
    return { session, manager, clock, logs, stored, shared };
  }

  it("the key set unreachable (503) right after the token endpoint answered: the rotated tokens are stored, the new ID token left out, the next refresh checks again", async () => {
    const { session, manager, clock, logs, stored } = await signedIn();
    idp.resetCounters();
    idp.injectFault('jwks', { kind: 'status', status: 503 }, 1);
    clock.advance(2 * hour);
    const [served] = await manager.getSessions(['openid']);
    assert.ok(served, 'the session is served');
    assert.notEqual(served.accessToken, session.accessToken, 'with the new access token');
    assert.equal(served.idToken, session.idToken, 'the unchecked new ID token is left out; the previous one stays');
    assert.equal(idp.count('refresh'), 1);
    assert.equal(idp.count('jwks'), 1, 'the key set was asked for, and failed');
    const [kept] = stored();
    assert.equal(kept!.tokens.accessToken, served.accessToken, 'stored');
    assert.equal((await idp.introspect(kept!.tokens.refreshToken!)).active, true, 'the stored refresh token is the live, rotated one');
    assert.ok(logs.some((line) => line.startsWith('warn') && /new ID token was left out/.test(line) && /503/.test(line)), logs.join('\n'));

    // Next expiry: the keys are reachable again, the refresh works from the stored token and brings a checked ID token.
    clock.advance(2 * hour);
    const [next] = await manager.getSessions(['openid']);
    assert.ok(next);
    assert.equal(idp.count('jwks'), 2, 'the keys were fetched again and the new ID token checked');
    assert.ok(next.idToken, 'with an ID token');
    assert.equal(logs.filter((line) => /left out/.test(line)).length, 1, 'only the first refresh left its ID token out');
    assert.equal(idp.requests.filter((request) => request.grantType === 'refresh_token' && request.status !== 200).length, 0, 'no refresh was refused');
    assert.deepEqual(findLeaks(logs.join('\n'), idp.issued), []);
  });

  it('the key set answering garbage (malformed JSON): the same, nothing lost', async () => {
    const { manager, clock, stored } = await signedIn();
    idp.injectFault('jwks', { kind: 'malformed_json' }, 1);
    clock.advance(2 * hour);
    const [served] = await manager.getSessions(['openid']);
    assert.ok(served);
    assert.equal((await idp.introspect(stored()[0]!.tokens.refreshToken!)).active, true);
  });

  it('SecretStorage refusing the write right after the refresh: the window keeps serving the new tokens and stores them when it can', async () => {
    let refuse = 0;
    const { manager, clock, logs, stored } = await signedIn((window) => ({
      get: (key) => window.get(key),
      keys: () => window.keys(),
      delete: (key) => window.delete(key),
      onDidChange: (listener) => window.onDidChange(listener),
      store: async (key, value) => {
        if (refuse-- > 0) throw new Error('the keyring is locked');
        return window.store(key, value);
      },
    }));
    await manager.getSessions(['openid']);
    refuse = 2;
    clock.advance(2 * hour);
    const [served] = await manager.getSessions(['openid']);
    assert.ok(served, 'served with the new tokens although storage refused them');
    for (let turn = 0; turn < 200 && stored()[0]!.tokens.accessToken !== served.accessToken; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(stored()[0]!.tokens.accessToken, served.accessToken, 'stored once storage took writes again');
    assert.equal((await idp.introspect(stored()[0]!.tokens.refreshToken!)).active, true);
    assert.ok(logs.some((line) => line.startsWith('warn') && /Could not save the session/.test(line)));
  });
});

describe('a refreshed ID token that names another subject', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
  });
  after(() => idp.close());

  // oidc-provider cannot be made to change a grant's subject, so the real refresh answer's subject is
  // swapped on its way out of the client: what is checked is the session layer's reaction.
  it('signs the session out and revokes the tokens it was just given (OpenID Connect Core 12.2)', async () => {
    const shared = createSharedSecrets();
    const clock = movableClock();
    const logs: string[] = [];
    const { manager, client } = deviceSessionManager(idp, shared.window(), { clock, logger: captureLogger(logs) });
    const refresh = client.refresh.bind(client);
    let issuedRefreshToken: string | undefined;
    client.refresh = async (tokens, signal) => {
      const result = await refresh(tokens, signal);
      issuedRefreshToken = result.tokens.refreshToken;
      return { ...result, subject: 'someone-else' };
    };
    const removed: string[] = [];
    manager.onDidChangeSessions((changes) => removed.push(...changes.removed.map((session) => session.id)));
    const session = await manager.createSession([]);
    clock.advance(2 * hour);
    assert.deepEqual(await manager.getSessions(['openid']), []);
    assert.deepEqual(removed, [session.id]);
    assert.deepEqual(storedSessions(shared.backing, identityOf(idp.issuer, idp.clientId)), []);
    assert.equal((await idp.introspect(issuedRefreshToken!)).active, false, 'the tokens of the other account are revoked');
    assert.ok(logs.some((line) => line.startsWith('error') && /tokens of another account/.test(line)));
  });
});
