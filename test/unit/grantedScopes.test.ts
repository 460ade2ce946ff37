import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { grantedScopes } from '../../src/auth/scopes.js';

const asked = ['email', 'offline_access', 'openid', 'profile'];

describe('grantedScopes', () => {
  test('an answer without scope (RFC 6749 5.1: as requested) grants what was asked', () => {
    assert.deepEqual(grantedScopes(asked, { scopes: asked, idToken: 'x', refreshToken: 'y' }), asked);
  });

  test('a scope declined at a per-scope consent screen is left out', () => {
    assert.deepEqual(grantedScopes(asked, { scopes: ['openid', 'profile', 'offline_access'], idToken: 'x', refreshToken: 'y' }), ['offline_access', 'openid', 'profile']);
  });

  test("openid counts when an ID token came, offline_access when a refresh token came, listed or not", () => {
    assert.deepEqual(grantedScopes(asked, { scopes: ['email', 'profile'], idToken: 'x', refreshToken: 'y' }), asked);
    assert.deepEqual(grantedScopes(asked, { scopes: ['email', 'profile'] }), ['email', 'profile']);
  });

  test("Google's long forms stand for the short scopes, and are kept too", () => {
    const google = ['openid', 'https://www.googleapis.com/auth/userinfo.email', 'https://www.googleapis.com/auth/userinfo.profile'];
    assert.deepEqual(grantedScopes(asked, { scopes: google, idToken: 'x', refreshToken: 'y' }), [...asked, ...google.slice(1)].sort());
  });

  test("Entra ID lists only the API's scopes: OpenID Connect's are not reported, so not taken as declined", () => {
    const entra = ['https://graph.microsoft.com/User.Read'];
    assert.deepEqual(grantedScopes([...asked, 'User.Read'], { scopes: entra, idToken: 'x', refreshToken: 'y' }), ['User.Read', ...asked, ...entra].sort());
  });

  test('an API scope that the answer leaves out is declined', () => {
    assert.deepEqual(grantedScopes(['openid', 'read_api', 'write_repository'], { scopes: ['openid', 'read_api'], idToken: 'x' }), ['openid', 'read_api']);
  });

  test("Entra's `/.default` is answered with the API's permissions, never by name: granted when anything is", () => {
    const requested = ['api://my-api/.default', 'offline_access', 'openid'];
    assert.deepEqual(grantedScopes(requested, { scopes: ['api://my-api/Files.Read'], idToken: 'x', refreshToken: 'y' }), ['api://my-api/.default', 'api://my-api/Files.Read', 'offline_access', 'openid']);
  });

  test('a dotted API scope does not pass for a shorter one (`repo.read` is not `read`)', () => {
    assert.deepEqual(grantedScopes(['openid', 'read'], { scopes: ['openid', 'repo.read'], idToken: 'x' }), ['openid', 'repo.read']);
  });
});
