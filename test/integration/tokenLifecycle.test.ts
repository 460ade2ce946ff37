import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithDeviceGrant } from '../../src/oauth/deviceGrant.js';
import { OAuthError } from '../../src/oauth/errors.js';
import type { SignInResult } from '../../src/oauth/types.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { fastPolling } from '../support/deviceSessionManager.js';
import { captureLogger } from '../support/logs.js';
import { meanwhile } from '../support/meanwhile.js';

const logger = captureLogger();

const scopes = ['openid', 'profile', 'email', 'offline_access'];

describe('refresh, revocation, userinfo and discovery against oidc-provider', () => {
  let idp: TestIdp;
  let client: OAuthClient;

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
  });
  after(() => idp.close());
  beforeEach(() => {
    idp.clearFaults();
    idp.resetCounters();
    client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger });
  });

  const signIn = (): Promise<SignInResult> =>
    signInWithDeviceGrant(client, { ...fastPolling, logger, scopes, onPrompt: (prompt) => meanwhile(idp.approveDevice(prompt.userCode, { decision: 'approve' })) });

  it('refreshes with rotation: new tokens, and the old refresh token is rejected afterwards', async () => {
    const { tokens } = await signIn();
    const { tokens: refreshed } = await client.refresh(tokens);
    assert.notEqual(refreshed.accessToken, tokens.accessToken);
    assert.ok(refreshed.refreshToken);
    assert.notEqual(refreshed.refreshToken, tokens.refreshToken, 'oidc-provider rotates refresh tokens');
    assert.equal((await idp.userinfo(refreshed.accessToken)).status, 200);

    const replay = await client.refresh(tokens).catch((caught: unknown) => caught);
    assert.ok(replay instanceof OAuthError);
    assert.equal(replay.kind, 'invalid_grant');
  });

  it('revokes the refresh token (RFC 7009): introspection then says inactive', async () => {
    const { tokens } = await signIn();
    assert.equal((await idp.introspect(tokens.refreshToken!)).active, true);
    assert.equal(await client.revoke(tokens.refreshToken!, 'refresh_token'), true);
    assert.equal((await idp.introspect(tokens.refreshToken!)).active, false);
    const refresh = await client.refresh(tokens).catch((caught: unknown) => caught);
    assert.ok(refresh instanceof OAuthError && refresh.kind === 'invalid_grant');
  });

  it('revokes the access token too', async () => {
    const { tokens } = await signIn();
    assert.equal(await client.revoke(tokens.accessToken, 'access_token'), true);
    assert.equal((await idp.introspect(tokens.accessToken)).active, false);
  });

  it('reads the account from userinfo and checks the subject', async () => {
    const { tokens, identity } = await signIn();
    const info = await client.userinfo(tokens.accessToken, identity.subject);
    assert.equal(info.preferred_username, 'demo');
    const mixedUp = await client.userinfo(tokens.accessToken, 'someone-else').catch((caught: unknown) => caught);
    assert.ok(mixedUp instanceof OAuthError && mixedUp.kind === 'invalid_response');
  });

  it('discovers once and reuses the metadata', async () => {
    await client.metadata();
    await client.metadata();
    await signIn();
    assert.equal(idp.count('discovery'), 1);
  });

  it('does not cache a failed discovery: the next call tries again', async () => {
    idp.injectFault('discovery', { kind: 'status', status: 500, body: '<html>down</html>', contentType: 'text/html' });
    const first = await client.metadata().catch((caught: unknown) => caught);
    assert.ok(first instanceof OAuthError && first.kind === 'idp_error');
    assert.equal(first.details.status, 500);
    assert.ok((await client.metadata()).token_endpoint);
  });

  it('refuses metadata that names another issuer', async () => {
    idp.injectFault('discovery', { kind: 'issuer_mismatch' });
    const error = await client.metadata().catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError);
    assert.equal(error.kind, 'invalid_response');
    assert.equal(error.reason, 'metadata_issuer_mismatch');
    assert.match(error.message, /states "issuer": "http:\/\/issuer-mismatch\.example\.test"/);
  });

  it('uses explicit endpoints without discovery when token + device endpoints are set', async () => {
    const metadata = await new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }).metadata();
    idp.resetCounters();
    const manual = new OAuthClient({
      issuer: idp.issuer,
      clientId: idp.clientId,
      scopes,
      endpoints: {
        token_endpoint: metadata.token_endpoint,
        device_authorization_endpoint: metadata.device_authorization_endpoint,
        jwks_uri: metadata.jwks_uri,
        userinfo_endpoint: metadata.userinfo_endpoint,
      },
    });
    const result = await signInWithDeviceGrant(manual, { ...fastPolling, logger, scopes, onPrompt: (prompt) => meanwhile(idp.approveDevice(prompt.userCode, { decision: 'approve' })) });
    assert.equal(result.identity.label, 'demo');
    assert.equal(idp.count('discovery'), 0);
  });

  it('refuses a plain-http issuer that is not loopback before any request', () => {
    assert.throws(() => new OAuthClient({ issuer: 'http://idp.example.com', clientId: 'x', scopes }), (error: unknown) => error instanceof OAuthError && error.kind === 'misconfigured' && /HTTPS/.test(error.message));
  });
});
