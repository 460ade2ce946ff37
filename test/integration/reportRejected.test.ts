// SessionManager.reportRejected: an API refused a session's token with 401. The session is dropped
// only when the identity provider rejects it too (its refresh token, or the token at userinfo); the
// GitHub case (account endpoint, no refresh token) is in presets.test.ts.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SessionManager, type AuthSessionChanges } from '../../src/auth/sessionManager.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithDeviceGrant } from '../../src/oauth/deviceGrant.js';
import { Redactor } from '../../src/oauth/redact.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { fastPolling } from '../support/deviceSessionManager.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets } from '../support/memorySecretStorage.js';
import { meanwhile } from '../support/meanwhile.js';

describe('SessionManager.reportRejected against oidc-provider', () => {
  let idp: TestIdp;
  let events: AuthSessionChanges[];
  const managers: SessionManager[] = [];

  function managerWith(scopes: string[]): SessionManager {
    const client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger: captureLogger() });
    const manager = new SessionManager({
      providerId: 'oauth-anywhere',
      client,
      configuredScopes: scopes,
      secrets: createSharedSecrets().window(),
      signIn: (request) => signInWithDeviceGrant(client, { ...fastPolling, scopes: request.scopes, onPrompt: (prompt) => meanwhile(idp.approveDevice(prompt.userCode)) }),
      logger: captureLogger(),
      redactor: new Redactor(),
    });
    manager.onDidChangeSessions((changes) => events.push(changes));
    managers.push(manager);
    return manager;
  }

  /** Revokes a token at the IdP, as an administrator or the user in the IdP's account page would. */
  async function revokeAtIdp(token: string): Promise<void> {
    const response = await fetch(new URL(idp.provider.pathFor('revocation'), idp.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: idp.clientId }).toString(),
    });
    assert.equal(response.status, 200);
  }

  const removed = (id: string) => events.some((change) => change.removed.some((session) => session.id === id));

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
  });
  after(async () => {
    for (const manager of managers) manager.dispose();
    await idp.close();
  });
  beforeEach(() => {
    events = [];
    idp.clearFaults();
    idp.resetCounters();
  });

  it('with a refresh token: refreshes at once, and the session stays with a new token', async () => {
    const manager = managerWith(['openid', 'profile', 'offline_access']);
    const session = await manager.createSession([]);
    assert.equal(await manager.reportRejected(session.id), 'refreshed');
    assert.equal(idp.count('refresh'), 1);
    const [fresh] = await manager.getSessions();
    assert.ok(fresh && fresh.accessToken !== session.accessToken);
    assert.equal((await idp.userinfo(fresh.accessToken)).status, 200);
    assert.ok(events.some((change) => change.changed.length === 1));
    assert.ok(!removed(session.id));
  });

  it('with a refresh token the IdP no longer accepts: the session is removed', async () => {
    const manager = managerWith(['openid', 'profile', 'offline_access']);
    const session = await manager.createSession([]);
    const stored = (await manager.store.all()).find((candidate) => candidate.id === session.id)!;
    await revokeAtIdp(stored.tokens.refreshToken!);
    assert.equal(await manager.reportRejected(session.id), 'removed');
    assert.equal((await manager.listSessions()).length, 0);
    assert.ok(removed(session.id));
  });

  it('without a refresh token, userinfo decides: a token it accepts keeps the session, a revoked one drops it', async () => {
    const manager = managerWith(['openid', 'profile']);
    const session = await manager.createSession([]);
    const stored = (await manager.store.all()).find((candidate) => candidate.id === session.id)!;
    assert.equal(stored.tokens.refreshToken, undefined);

    assert.equal(await manager.reportRejected(session.id), 'kept');
    assert.equal(idp.count('userinfo'), 1);
    assert.equal((await manager.listSessions()).length, 1);

    await revokeAtIdp(session.accessToken);
    assert.equal(await manager.reportRejected(session.id), 'removed');
    assert.equal((await manager.listSessions()).length, 0);
    assert.ok(removed(session.id));
  });

  it('keeps the session when the IdP cannot be asked (HTTP 503)', async () => {
    const manager = managerWith(['openid', 'profile']);
    const session = await manager.createSession([]);
    idp.injectFault('userinfo', { kind: 'status', status: 503 });
    assert.equal(await manager.reportRejected(session.id), 'kept');
    assert.equal((await manager.listSessions()).length, 1);
    assert.ok(!removed(session.id));
  });

  it('keeps the session when its refresh fails for a passing reason (HTTP 503)', async () => {
    const manager = managerWith(['openid', 'profile', 'offline_access']);
    const session = await manager.createSession([]);
    idp.injectFault('refresh', { kind: 'status', status: 503 });
    assert.equal(await manager.reportRejected(session.id), 'kept');
    assert.equal((await manager.listSessions()).length, 1);
  });

  it('reports an unknown session as removed, without asking the IdP', async () => {
    const manager = managerWith(['openid']);
    assert.equal(await manager.reportRejected('no-such-session'), 'removed');
    assert.equal(idp.requests.length, 0);
  });
});
