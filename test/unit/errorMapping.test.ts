import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { toOAuthError } from '../../src/oauth/errorMapping.js';
import { OAuthError } from '../../src/oauth/errors.js';

// Real oauth4webapi errors, made by running its real processing functions on hand-made responses.
const as: oauth.AuthorizationServer = {
  issuer: 'https://idp.example.test',
  token_endpoint: 'https://idp.example.test/token',
  device_authorization_endpoint: 'https://idp.example.test/device',
};
const client: oauth.Client = { client_id: 'vscode-native' };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/** Runs `process` and returns what it threw (failing the test if it did not throw). */
async function thrownBy(process: () => Promise<unknown>): Promise<unknown> {
  try {
    await process();
  } catch (error) {
    return error;
  }
  return assert.fail('the oauth4webapi processing function accepted the response');
}

const refreshFailure = (response: Response) => thrownBy(() => oauth.processRefreshTokenResponse(as, client, response));
const devicePollFailure = (response: Response) => thrownBy(() => oauth.processDeviceCodeResponse(as, client, response));

async function mapped(response: Promise<unknown>, action = 'refreshing the session'): Promise<OAuthError> {
  const error = toOAuthError(await response, action);
  assert.ok(error instanceof OAuthError);
  return error;
}

describe('toOAuthError maps OAuth error codes from the token endpoint', () => {
  test('invalid_grant on refresh -> invalid_grant, naming the step', async () => {
    const error = await mapped(refreshFailure(json(400, { error: 'invalid_grant', error_description: 'Token is not active' })));
    assert.equal(error.kind, 'invalid_grant');
    assert.equal(error.details.oauthError, 'invalid_grant');
    assert.equal(error.details.status, 400);
    assert.match(error.message, /refreshing the session/);
    assert.match(error.message, /Token is not active/);
  });

  test('access_denied while polling the device grant -> denied', async () => {
    const error = await mapped(devicePollFailure(json(400, { error: 'access_denied' })), 'waiting for the device sign-in');
    assert.equal(error.kind, 'denied');
  });

  test('expired_token while polling the device grant -> expired', async () => {
    const error = await mapped(devicePollFailure(json(400, { error: 'expired_token' })), 'waiting for the device sign-in');
    assert.equal(error.kind, 'expired');
  });

  test('invalid_client -> misconfigured', async () => {
    const error = await mapped(refreshFailure(json(401, { error: 'invalid_client', error_description: 'client authentication failed' })));
    assert.equal(error.kind, 'misconfigured');
    assert.equal(error.details.status, 401);
  });

  test('invalid_client with a Basic challenge (RFC 6749 5.2) -> misconfigured, not a lost session', async () => {
    const error = await mapped(refreshFailure(json(401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="idp"' })));
    assert.equal(error.kind, 'misconfigured');
  });

  test('unauthorized_client and invalid_scope -> misconfigured', async () => {
    for (const code of ['unauthorized_client', 'invalid_scope']) {
      assert.equal((await mapped(refreshFailure(json(400, { error: code })))).kind, 'misconfigured');
    }
  });

  test('temporarily_unavailable, and any code with 429/502/503/504 -> unavailable; another code with 500 -> failed', async () => {
    assert.equal((await mapped(refreshFailure(json(400, { error: 'temporarily_unavailable' })))).reason, 'idp_unavailable');
    assert.equal((await mapped(refreshFailure(json(429, { error: 'rate_limited' })))).reason, 'idp_unavailable');
    assert.equal((await mapped(refreshFailure(json(400, { error: 'server_error' })))).reason, 'idp_failed');
  });

  test('the identity provider\'s words are plain text: no link syntax, no control characters', async () => {
    const error = await mapped(refreshFailure(json(400, { error: 'invalid_grant', error_description: 'Click [here](command:workbench.action.openSettings)\u0007\u202e now' })));
    // eslint-disable-next-line no-control-regex -- the BEL the identity provider sent must be gone
    assert.doesNotMatch(error.message, /\]\(|[\u0007\u202e]/);
    assert.ok(error.message.includes('Click [here]\u200b(command:workbench.action.openSettings) now'), error.message);
  });

  test('an unknown OAuth error code -> idp_error carrying the code', async () => {
    const error = await mapped(refreshFailure(json(400, { error: 'server_is_sad' })));
    assert.equal(error.kind, 'idp_error');
    assert.equal(error.details.oauthError, 'server_is_sad');
  });
});

describe('toOAuthError maps broken answers', () => {
  test('HTTP 500 with an HTML page -> idp_error with the status', async () => {
    const response = new Response('<html><body><h1>Internal Server Error</h1></body></html>', { status: 500, headers: { 'content-type': 'text/html' } });
    const error = await mapped(refreshFailure(response));
    assert.equal(error.kind, 'idp_error');
    assert.equal(error.details.status, 500);
    assert.match(error.message, /HTTP 500/);
    assert.equal(error.reason, 'idp_failed', 'a 500 is the identity provider failing, not "come back later"');
    assert.equal(error.details.retryAfterSeconds, undefined);
  });

  test('HTTP 503 with Retry-After: 7 -> idp_error (unavailable) with retryAfterSeconds 7', async () => {
    const response = new Response('down for maintenance', { status: 503, headers: { 'content-type': 'text/plain', 'retry-after': '7' } });
    const error = await mapped(refreshFailure(response));
    assert.equal(error.kind, 'idp_error');
    assert.equal(error.reason, 'idp_unavailable');
    assert.equal(error.details.status, 503);
    assert.equal(error.details.retryAfterSeconds, 7);
    assert.match(error.message, /7 s/);
  });

  test('HTTP 503 with Retry-After as an HTTP date -> the seconds until then', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    const error = await mapped(refreshFailure(new Response('', { status: 503, headers: { 'retry-after': at } })));
    const seconds = error.details.retryAfterSeconds;
    assert.ok(seconds !== undefined && seconds > 60 && seconds <= 120, `got ${seconds}`);
  });

  test('a 200 answer that is not valid JSON -> invalid_response', async () => {
    const response = new Response('{"access_token": "abc", ', { status: 200, headers: { 'content-type': 'application/json' } });
    const error = await mapped(refreshFailure(response));
    assert.equal(error.kind, 'invalid_response');
    assert.match(error.message, /JSON/);
  });

  test('a 200 answer labelled text/html -> invalid_response', async () => {
    const response = new Response('<html>login page</html>', { status: 200, headers: { 'content-type': 'text/html' } });
    assert.equal((await mapped(refreshFailure(response))).kind, 'invalid_response');
  });

  test('a token answer without access_token -> invalid_response', async () => {
    assert.equal((await mapped(refreshFailure(json(200, { token_type: 'bearer' })))).kind, 'invalid_response');
  });

  test('discovery metadata naming another issuer -> invalid_response that says so', async () => {
    const metadata = json(200, { issuer: 'https://evil.example.test', token_endpoint: 'https://evil.example.test/token' });
    const error = await mapped(thrownBy(() => oauth.processDiscoveryResponse(new URL('https://idp.example.test'), metadata)), 'reading the identity provider metadata');
    assert.equal(error.kind, 'invalid_response');
    assert.equal(error.reason, 'metadata_issuer_mismatch');
    assert.match(error.message, /states "issuer": "https:\/\/evil\.example\.test", while https:\/\/idp\.example\.test\/ is configured/);
  });

  test('a Bearer invalid_token challenge (userinfo) -> invalid_grant', async () => {
    const response = new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token", error_description="expired"' } });
    const error = await mapped(thrownBy(() => oauth.processUserInfoResponse({ ...as, userinfo_endpoint: 'https://idp.example.test/me' }, client, 'sub-1', response)), 'reading the account from userinfo');
    assert.equal(error.kind, 'invalid_grant');
    assert.equal(error.details.oauthError, 'invalid_token');
  });

  test('an OAuthError passes through unchanged', () => {
    const original = new OAuthError('timeout', 'slow');
    assert.equal(toOAuthError(original, 'anything'), original);
  });

  test('anything else -> invalid_response that keeps the cause', () => {
    const cause = new TypeError('boom');
    const error = toOAuthError(cause, 'refreshing the session');
    assert.equal(error.kind, 'invalid_response');
    assert.equal(error.details.cause, cause);
  });
});

describe('toOAuthError never copies a token from the response into the message', () => {
  const accessToken = 'at-4f0c9a1e7b2d4c6e';
  const refreshToken = 'rt-9d8c7b6a5f4e3d2c';
  const jwt = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"sub":"u1"}').toString('base64url')}.c2lnbmF0dXJl`;
  const secrets = [accessToken, refreshToken, jwt];

  const cases: Array<[string, () => Promise<unknown>]> = [
    ['an error answer that also carries tokens', () => refreshFailure(json(400, { error: 'invalid_grant', access_token: accessToken, refresh_token: refreshToken, id_token: jwt }))],
    ['an unknown error code answer with tokens', () => refreshFailure(json(400, { error: 'weird', refresh_token: refreshToken }))],
    ['an HTML error page that shows the tokens', () => refreshFailure(new Response(`<pre>${accessToken} ${refreshToken} ${jwt}</pre>`, { status: 502, headers: { 'content-type': 'text/html' } }))],
    ['malformed JSON that starts with the tokens', () => refreshFailure(new Response(`{"access_token":"${accessToken}","refresh_token":"${refreshToken}"`, { status: 200, headers: { 'content-type': 'application/json' } }))],
    ['a token answer with a bad field next to the tokens', () => refreshFailure(json(200, { access_token: accessToken, token_type: 'bearer', refresh_token: refreshToken, expires_in: 'soon' }))],
    ['a token answer with a non-string scope', () => refreshFailure(json(200, { access_token: accessToken, token_type: 'bearer', refresh_token: refreshToken, scope: 42 }))],
    ['an error description that quotes the refresh token (JWT)', () => refreshFailure(json(400, { error: 'invalid_grant', error_description: `Refresh token ${jwt} is revoked` }))],
  ];

  for (const [name, produce] of cases) {
    test(name, async () => {
      const error = await mapped(produce());
      for (const secret of secrets) assert.ok(!error.message.includes(secret), `message leaks ${secret}: ${error.message}`);
    });
  }
});
