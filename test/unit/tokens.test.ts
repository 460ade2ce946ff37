import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type * as oauth from 'oauth4webapi';
import { identityFromClaims, tokenSetFrom } from '../../src/oauth/tokens.js';
import type { TokenSet } from '../../src/oauth/types.js';
import { isStoredSession } from '../../src/auth/sessionEntry.js';

/** A JWT-shaped ID token whose iat/exp are years away from receivedAt; only its shape matters here. */
function idTokenWithTimes(iat: number, exp: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ sub: 'u1', iat, exp })}.c2ln`;
}

const receivedAt = Date.UTC(2031, 5, 15, 12, 0, 0);

describe('tokenSetFrom', () => {
  test('counts expiry from expires_in at receivedAt, whatever times the IdP put elsewhere', () => {
    // The IdP's clock is a year behind: its id_token says it expired long ago.
    const idpNow = Math.floor((receivedAt - 365 * 24 * 3600_000) / 1000);
    const body: oauth.TokenEndpointResponse = {
      access_token: 'access-1',
      token_type: 'bearer',
      expires_in: 3600,
      id_token: idTokenWithTimes(idpNow, idpNow + 300),
    };
    const set = tokenSetFrom(body, ['openid'], receivedAt);
    assert.equal(set.expiresAt, receivedAt + 3_600_000);
    assert.equal(set.obtainedAt, receivedAt);
  });

  test('leaves expiresAt unset when the answer has no expires_in', () => {
    const set = tokenSetFrom({ access_token: 'a', token_type: 'bearer' }, [], receivedAt);
    assert.equal(set.expiresAt, undefined);
  });

  test('copies the tokens and the token type', () => {
    const set = tokenSetFrom({ access_token: 'a1', token_type: 'dpop', refresh_token: 'r1', id_token: 'i1' }, [], receivedAt);
    assert.equal(set.accessToken, 'a1');
    assert.equal(set.tokenType, 'dpop');
    assert.equal(set.refreshToken, 'r1');
    assert.equal(set.idToken, 'i1');
  });

  test('takes the granted scopes from the answer\'s scope, over what was requested', () => {
    const set = tokenSetFrom({ access_token: 'a', token_type: 'bearer', scope: 'openid  email' }, ['openid', 'profile', 'email'], receivedAt);
    assert.deepEqual(set.scopes, ['openid', 'email']);
  });

  test('an expires_in beyond any date (1e306 s, whose milliseconds are Infinity) counts as a year: the session stays storable', () => {
    for (const expiresIn of [1e306, Number.MAX_VALUE, 10 * 365 * 24 * 3600]) {
      const tokens = tokenSetFrom({ access_token: 'a', token_type: 'bearer', expires_in: expiresIn }, ['openid'], receivedAt);
      assert.equal(tokens.expiresAt, receivedAt + 365 * 24 * 3_600_000, String(expiresIn));
      const session = { id: 's', account: { id: 'x', label: 'y' }, scopes: ['openid'], createdAt: receivedAt, tokens };
      assert.equal(isStoredSession(JSON.parse(JSON.stringify(session))), true, `${expiresIn}: valid after a JSON round trip`);
    }
  });

  test('scope tokens with characters RFC 6749 does not allow (controls, escape sequences, quote, backslash) are dropped; any whitespace separates', () => {
    const scope = 'openid\tread\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b[2K profile\r\nwrite\u00a0bad"quote back\\slash caf\u00e9 api://x/.default';
    const set = tokenSetFrom({ access_token: 'a', token_type: 'bearer', scope }, ['openid'], receivedAt);
    assert.deepEqual(set.scopes, ['openid', 'profile', 'write', 'api://x/.default']);
  });

  test('without a scope in the answer, the granted scopes are the requested ones', () => {
    const requested = ['openid', 'profile'];
    const set = tokenSetFrom({ access_token: 'a', token_type: 'bearer' }, requested, receivedAt);
    assert.deepEqual(set.scopes, ['openid', 'profile']);
    assert.notEqual(set.scopes, requested, 'a copy, so later changes to the request do not leak in');
  });

  describe('on refresh', () => {
    const previous: TokenSet = {
      accessToken: 'old-access',
      tokenType: 'bearer',
      expiresAt: receivedAt - 1000,
      obtainedAt: receivedAt - 3_601_000,
      refreshToken: 'old-refresh',
      idToken: 'old-id',
      scopes: ['openid', 'offline_access'],
    };

    test('keeps the previous refresh token when the answer has none', () => {
      const set = tokenSetFrom({ access_token: 'new-access', token_type: 'bearer', expires_in: 60 }, ['openid'], receivedAt, previous);
      assert.equal(set.accessToken, 'new-access');
      assert.equal(set.refreshToken, 'old-refresh');
      assert.equal(set.expiresAt, receivedAt + 60_000);
    });

    test('takes the rotated refresh token when the answer has one', () => {
      const set = tokenSetFrom({ access_token: 'new-access', token_type: 'bearer', refresh_token: 'new-refresh' }, ['openid'], receivedAt, previous);
      assert.equal(set.refreshToken, 'new-refresh');
    });

    test('keeps the previous ID token when the answer has none', () => {
      const set = tokenSetFrom({ access_token: 'new-access', token_type: 'bearer' }, ['openid'], receivedAt, previous);
      assert.equal(set.idToken, 'old-id');
    });

    test('without a scope in the answer, keeps the scopes of the grant being refreshed', () => {
      const set = tokenSetFrom({ access_token: 'new-access', token_type: 'bearer' }, ['openid'], receivedAt, previous);
      assert.deepEqual(set.scopes, ['openid', 'offline_access']);
    });

    test('a scope in the answer replaces the previous scopes', () => {
      const set = tokenSetFrom({ access_token: 'new-access', token_type: 'bearer', scope: 'openid' }, ['openid'], receivedAt, previous);
      assert.deepEqual(set.scopes, ['openid']);
    });
  });
});

describe('identityFromClaims', () => {
  const all = { sub: 'sub-1', preferred_username: 'pat', email: 'pat@example.test', name: 'Pat Doe' };

  test('the subject is sub', () => {
    assert.equal(identityFromClaims(all).subject, 'sub-1');
  });

  test('labels with preferred_username first', () => {
    assert.equal(identityFromClaims(all).label, 'pat');
  });

  test('then email', () => {
    const { preferred_username: _unused, ...claims } = all;
    assert.equal(identityFromClaims(claims).label, 'pat@example.test');
  });

  test('then name', () => {
    assert.equal(identityFromClaims({ sub: 'sub-1', name: 'Pat Doe' }).label, 'Pat Doe');
  });

  test('then sub', () => {
    assert.equal(identityFromClaims({ sub: 'sub-1' }).label, 'sub-1');
  });

  test('$( in a name is kept from becoming a VS Code icon: a zero-width space after the $', () => {
    assert.equal(identityFromClaims({ sub: 'sub-1', preferred_username: '$(shield) admin' }).label, '$\u200b(shield) admin');
    assert.equal(identityFromClaims({ sub: '$(sub)' }).label, '$\u200b(sub)');
    assert.equal(identityFromClaims({ sub: 'x', name: 'costs $5 (each)' }).label, 'costs $5 (each)');
  });

  test('skips blank and non-string claims', () => {
    assert.equal(identityFromClaims({ sub: 'sub-1', preferred_username: '   ', email: 42, name: ' Pat ' }).label, 'Pat');
  });
});
