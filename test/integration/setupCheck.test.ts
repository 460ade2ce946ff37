import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkIdentityProvider } from '../../src/diagnostics/setupCheck.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';

const clientFor = (issuer: string, clientId = 'vscode') => () => new OAuthClient({ issuer, clientId, scopes: [] }, { limits: { timeoutMs: 2_000, maxBodyBytes: 1024 * 1024 } });

describe('Configure: the discovery check before saving, against oidc-provider', () => {
  let idp: TestIdp;
  /** The same IdP, but its discovery document lacks the device endpoint, PKCE S256 and refresh tokens. */
  let meager: TestIdp;

  before(async () => {
    idp = await startTestIdp();
    meager = await startTestIdp({
      intercept: async (req, res) => {
        // The interceptor reads the real document itself, marked so that it is not intercepted again.
        if (!req.url?.endsWith('/.well-known/openid-configuration') || req.headers['x-real-document']) return false;
        const real = await fetch(new URL('/.well-known/openid-configuration', meager.issuer), { headers: { 'x-real-document': '1' } });
        const full = (await real.json()) as Record<string, unknown>;
        delete full.device_authorization_endpoint;
        full.code_challenge_methods_supported = ['plain'];
        full.grant_types_supported = ['authorization_code'];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(full));
        return true;
      },
    });
  });
  after(async () => {
    await idp.close();
    await meager.close();
  });

  it('metadata lists that are no lists: read as not listed, not a TypeError', async () => {
    idp.injectFault('discovery', { kind: 'edit_answer', set: { code_challenge_methods_supported: { S256: true }, grant_types_supported: 'refresh_token' } });
    const check = await checkIdentityProvider(clientFor(idp.issuer, idp.clientId));
    assert.ok(check.ok, JSON.stringify(check));
    assert.deepEqual(check.gaps, ['PKCE S256 is not listed: this extension always sends it, and the identity provider may refuse the sign-in.']);
  });

  it('a complete identity provider: ok, nothing missing, the issuer as discovery states it', async () => {
    const check = await checkIdentityProvider(clientFor(idp.issuer, idp.clientId));
    assert.ok(check.ok, JSON.stringify(check));
    assert.equal(check.issuer, idp.issuer);
    assert.deepEqual(check.gaps, []);
    assert.ok(check.elapsedMs >= 0);
  });

  it('says what is missing: no device endpoint, no PKCE S256, no refresh tokens', async () => {
    const check = await checkIdentityProvider(clientFor(meager.issuer));
    assert.ok(check.ok, JSON.stringify(check));
    assert.equal(check.gaps.length, 3, check.gaps.join('\n'));
    assert.match(check.gaps[0]!, /No device authorization endpoint/);
    assert.match(check.gaps[1]!, /PKCE S256 is not offered/);
    assert.match(check.gaps[2]!, /No refresh tokens/);
  });

  it('refuses an issuer without a discovery document (HTTP 404), saying so', async () => {
    const check = await checkIdentityProvider(clientFor(`${idp.issuer}/no-such-realm`));
    assert.equal(check.ok, false);
    assert.match((check as { problem: string }).problem, /has no discovery document \(HTTP 404\)/);
  });

  it('refuses an address where nothing answers', async () => {
    const check = await checkIdentityProvider(clientFor('http://127.0.0.1:9/'));
    assert.equal(check.ok, false);
    assert.ok((check as { problem: string }).problem.length > 10);
  });

  it('refuses plain http to a real host and an empty client id before any request', async () => {
    const http = await checkIdentityProvider(clientFor('http://idp.example.com/'));
    assert.equal(http.ok, false);
    assert.match((http as { problem: string }).problem, /HTTPS/);
    const noClient = await checkIdentityProvider(clientFor(idp.issuer, '  '));
    assert.equal(noClient.ok, false);
    assert.match((noClient as { problem: string }).problem, /client id/);
  });
});
