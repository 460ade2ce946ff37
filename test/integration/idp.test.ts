// Proves the test IdP itself with an independent, certified client library (oauth4webapi) rather
// than the extension's own code, so that a bug in either one cannot hide in the other.
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oauth from 'oauth4webapi';
import { DEMO_ACCOUNT, DEVICE_CODE_GRANT, startTestIdp, type TestIdp } from '../support/idp.js';

const insecure = { [oauth.allowInsecureRequests]: true };
const SCOPE = 'openid profile email offline_access';

let idp: TestIdp;
let as: oauth.AuthorizationServer;
let client: oauth.Client;
let callbackServer: Server;
let redirectUri: string;
const callbacks: URL[] = [];

before(async () => {
  idp = await startTestIdp({ deviceInterval: 0.05 });
  client = { client_id: idp.clientId };
  const issuer = new URL(idp.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));

  // Stands in for the extension's loopback server: the IdP's redirect must reach it.
  callbackServer = createServer((req, res) => {
    callbacks.push(new URL(req.url ?? '/', 'http://127.0.0.1'));
    res.writeHead(200, { 'content-type': 'text/plain' }).end('callback received');
  });
  await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  redirectUri = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/callback`;
});

after(async () => {
  callbackServer.closeAllConnections();
  await new Promise((resolve) => callbackServer.close(resolve));
  await idp.close();
});

async function authorizationUrl(scope = SCOPE) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint ?? assert.fail('no authorization_endpoint'));
  url.search = new URLSearchParams({
    client_id: client.client_id,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.href, verifier, state, nonce };
}

async function signInWithCode(scope = SCOPE) {
  const request = await authorizationUrl(scope);
  const { callbackUrl } = await idp.authorize(request.url);
  const params = oauth.validateAuthResponse(as, client, new URL(callbackUrl), request.state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, request.verifier, insecure);
  return oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: request.nonce, requireIdToken: true });
}

async function startDevice(scope = SCOPE) {
  const response = await oauth.deviceAuthorizationRequest(as, client, oauth.None(), { scope }, insecure);
  return oauth.processDeviceAuthorizationResponse(as, client, response);
}

/** The caller-side polling loop oauth4webapi leaves to its users; slow_down adds slowDownStep seconds. */
async function pollDevice(device: oauth.DeviceAuthorizationResponse, slowDownStep = 0.05) {
  let interval = device.interval ?? 5;
  let polls = 0;
  let slowDowns = 0;
  for (;;) {
    await sleep(interval * 1000);
    polls++;
    try {
      const response = await oauth.deviceCodeGrantRequest(as, client, oauth.None(), device.device_code, insecure);
      return { tokens: await oauth.processDeviceCodeResponse(as, client, response), polls, slowDowns };
    } catch (err) {
      if (!(err instanceof oauth.ResponseBodyError)) throw err;
      if (err.error === 'authorization_pending') continue;
      if (err.error === 'slow_down') {
        slowDowns++;
        interval += slowDownStep;
        continue;
      }
      return { error: err, polls, slowDowns };
    }
  }
}

async function refresh(refreshToken: string) {
  const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshToken, insecure);
  return oauth.processRefreshTokenResponse(as, client, response);
}

describe('test IdP: authorization code + PKCE', () => {
  it('signs in, delivers the redirect to the loopback server, issues a refresh token and claims', async (t) => {
    const started = performance.now();
    const request = await authorizationUrl();
    const result = await idp.authorize(request.url);
    assert.equal(result.status, 200);
    assert.equal(result.body, 'callback received');
    assert.equal(callbacks.at(-1)?.searchParams.get('state'), request.state);
    assert.equal(new URL(result.callbackUrl).searchParams.get('iss'), idp.issuer, 'RFC 9207 iss');

    const params = oauth.validateAuthResponse(as, client, new URL(result.callbackUrl), request.state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, request.verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: request.nonce, requireIdToken: true });
    t.diagnostic(`code flow round trip ${(performance.now() - started).toFixed(0)} ms`);

    assert.ok(tokens.refresh_token, 'offline_access yields a refresh token without prompt=consent');
    assert.equal(tokens.expires_in, 3600);
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    assert.equal(claims?.sub, DEMO_ACCOUNT.sub);
    assert.equal(claims?.preferred_username, DEMO_ACCOUNT.preferred_username);
    assert.equal(claims?.email, DEMO_ACCOUNT.email);

    const userinfo = await oauth.processUserInfoResponse(as, client, DEMO_ACCOUNT.sub,
      await oauth.userInfoRequest(as, client, tokens.access_token, insecure));
    assert.equal(userinfo.name, DEMO_ACCOUNT.name);
    assert.equal(userinfo.email_verified, true);
    assert.equal((await idp.userinfo(tokens.access_token)).body.preferred_username, 'demo');
  });

  it('returns the callback URL without calling it when deliver is false', async () => {
    const before = callbacks.length;
    const request = await authorizationUrl();
    const { callbackUrl, status } = await idp.authorize(request.url, { deliver: false });
    assert.equal(status, undefined);
    assert.equal(callbacks.length, before);
    assert.ok(new URL(callbackUrl).searchParams.get('code'));
  });

  it('issues no refresh token without offline_access', async () => {
    const tokens = await signInWithCode('openid profile');
    assert.equal(tokens.refresh_token, undefined);
    assert.equal(tokens.scope, 'openid profile');
  });

  it('redirects access_denied when the user denies', async () => {
    const request = await authorizationUrl();
    const { callbackUrl, status } = await idp.authorize(request.url, { decision: 'deny' });
    assert.equal(status, 200);
    assert.throws(
      () => oauth.validateAuthResponse(as, client, new URL(callbackUrl), request.state),
      (err: unknown) => err instanceof oauth.AuthorizationResponseError && err.error === 'access_denied',
    );
  });
});

describe('test IdP: device authorization grant', () => {
  it('sends the configured interval, or none', async () => {
    assert.equal((await startDevice()).interval, 0.05);
    idp.settings.deviceInterval = null;
    try {
      const raw = await oauth.deviceAuthorizationRequest(as, client, oauth.None(), { scope: SCOPE }, insecure);
      assert.equal('interval' in await raw.json(), false);
      idp.settings.deviceInterval = 7;
      assert.equal((await startDevice()).interval, 7);
    } finally {
      idp.settings.deviceInterval = 0.05;
    }
  });

  it('signs in once the user approves, while the client polls', async (t) => {
    const started = performance.now();
    const device = await startDevice();
    const polling = pollDevice(device);
    await sleep(120); // let a few polls see authorization_pending
    await idp.approveDevice(device.user_code);
    const { tokens, polls } = await polling;
    t.diagnostic(`device flow ${(performance.now() - started).toFixed(0)} ms, ${polls} polls`);
    assert.ok(tokens?.refresh_token);
    assert.ok(polls >= 2);
    assert.equal(oauth.getValidatedIdTokenClaims(tokens)?.email, DEMO_ACCOUNT.email);
  });

  it('accepts verification_uri_complete, and issues no refresh token without offline_access', async () => {
    const device = await startDevice('openid email');
    assert.ok(device.verification_uri_complete);
    await idp.approveDevice(device.verification_uri_complete);
    const { tokens } = await pollDevice(device);
    assert.ok(tokens?.access_token);
    assert.equal(tokens.refresh_token, undefined);
  });

  for (const decision of ['deny', 'abort'] as const) {
    it(`answers access_denied when the user chooses ${decision}`, async () => {
      const device = await startDevice();
      await idp.approveDevice(device.user_code, { decision });
      const { error } = await pollDevice(device);
      assert.equal(error?.error, 'access_denied');
    });
  }

  it('answers slow_down to the polls injectSlowDown asks for, and counts them', async () => {
    const device = await startDevice();
    await idp.approveDevice(device.user_code);
    idp.resetCounters();
    idp.injectSlowDown(2);
    const { tokens, polls, slowDowns } = await pollDevice(device);
    assert.ok(tokens);
    assert.equal(slowDowns, 2);
    assert.equal(polls, 3);
    assert.equal(idp.count('token', DEVICE_CODE_GRANT), 3);
    assert.deepEqual(idp.requests.map((r) => [r.injected, r.status]), [['slow_down', 400], ['slow_down', 400], [undefined, 200]]);
  });
});

describe('test IdP: refresh, revocation, introspection', () => {
  it('rotates refresh tokens and rejects the old one afterwards', async () => {
    const first = await signInWithCode();
    const original = first.refresh_token ?? assert.fail('no refresh token');
    idp.resetCounters();
    const started = performance.now();
    const second = await refresh(original);
    const elapsed = performance.now() - started;
    assert.ok(second.refresh_token);
    assert.notEqual(second.refresh_token, original);
    await assert.rejects(refresh(original),
      (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant');
    assert.equal(idp.count('refresh'), 2);
    // Replaying a rotated token revokes the whole grant, the new refresh token included.
    assert.equal((await idp.introspect(second.refresh_token)).active, false);
    assert.ok(elapsed < 1000, `refresh took ${elapsed} ms`);
  });

  it('reports revoked tokens as inactive', async () => {
    const tokens = await signInWithCode();
    const refreshToken = tokens.refresh_token ?? assert.fail('no refresh token');
    const intro = await idp.introspect(tokens.access_token);
    assert.equal(intro.active, true);
    assert.equal(intro.sub, DEMO_ACCOUNT.sub);
    assert.equal(intro.client_id, idp.clientId);

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), tokens.access_token, insecure));
    assert.equal((await idp.introspect(tokens.access_token)).active, false);
    assert.equal((await idp.userinfo(tokens.access_token)).status, 401);

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), refreshToken, insecure));
    assert.equal((await idp.introspect(refreshToken)).active, false);
    await assert.rejects(refresh(refreshToken),
      (err: unknown) => err instanceof oauth.ResponseBodyError && err.error === 'invalid_grant');
  });

  it('applies TTL changes at runtime', async () => {
    idp.settings.accessTokenTtl = 2;
    try {
      const tokens = await signInWithCode();
      assert.equal(tokens.expires_in, 2);
    } finally {
      idp.settings.accessTokenTtl = 3600;
    }
  });
});

describe('test IdP: injected faults', () => {
  const discover = async () => {
    const issuer = new URL(idp.issuer);
    return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  };

  it('breaks discovery once per injected fault, then answers normally', async () => {
    const faults = [
      { kind: 'status', status: 503, headers: { 'retry-after': '1' }, contentType: 'text/html' },
      { kind: 'malformed_json' },
      { kind: 'issuer_mismatch' },
      { kind: 'oversized', bytes: 2_000_000 },
      { kind: 'reset' },
    ] as const;
    idp.resetCounters();
    for (const fault of faults) {
      idp.injectFault('discovery', fault);
      await assert.rejects(discover(), `${fault.kind} should fail discovery`);
    }
    // oauth4webapi reads a successful answer whatever its content type, so look at the header.
    idp.injectFault('discovery', { kind: 'wrong_content_type' });
    const relabelled = await fetch(new URL('/.well-known/openid-configuration', idp.issuer));
    assert.equal(relabelled.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal((await relabelled.json() as { issuer: string }).issuer, idp.issuer);

    assert.equal((await discover()).issuer, idp.issuer);
    assert.deepEqual(idp.requests.map((r) => r.injected), [...faults.map((f) => f.kind), 'wrong_content_type', undefined]);
  });

  it('keys refresh faults apart from other token requests, with headers', async () => {
    const tokens = await signInWithCode();
    idp.injectFault('refresh', { kind: 'status', status: 503, headers: { 'retry-after': '3' } });
    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token ?? '', insecure);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '3');
    await response.body?.cancel();
    // The faulted request never reached the provider, so the token is still good.
    assert.ok((await refresh(tokens.refresh_token ?? '')).access_token);
  });

  it('delays an answer, and close() does not wait for one that never comes', async () => {
    idp.injectFault('jwks', { kind: 'delay', ms: 150 });
    const started = performance.now();
    assert.equal((await fetch(new URL('/jwks', idp.issuer))).status, 200);
    assert.ok(performance.now() - started >= 140);

    const other = await startTestIdp();
    other.injectFault('discovery', { kind: 'delay', ms: 10 * 60_000 });
    const hanging = fetch(new URL('/.well-known/openid-configuration', other.issuer));
    await sleep(50);
    const closing = performance.now();
    await other.close();
    assert.ok(performance.now() - closing < 500, 'close() is prompt');
    await assert.rejects(hanging);
  });
});
