import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeScopes, scopesSatisfy, signInScopes } from '../../src/auth/scopes.js';

describe('normalizeScopes', () => {
  test('sorts, removes duplicates, trims and drops empty names', () => {
    assert.deepEqual(normalizeScopes(['profile', ' openid ', 'profile', '', '  ', 'email']), ['email', 'openid', 'profile']);
  });

  test('gives the same list whatever the input order', () => {
    assert.deepEqual(normalizeScopes(['b', 'a', 'c']), normalizeScopes(['c', 'b', 'a']));
  });

  test('does not change the caller\'s array', () => {
    const input = ['b', 'a'];
    normalizeScopes(input);
    assert.deepEqual(input, ['b', 'a']);
  });
});

describe('scopesSatisfy', () => {
  test('a session with exactly the requested scopes in another order serves the request', () => {
    assert.equal(scopesSatisfy(['openid', 'profile', 'email'], ['email', 'openid', 'profile']), true);
  });

  test('a session holding more scopes than requested serves the request', () => {
    assert.equal(scopesSatisfy(['openid', 'profile', 'email', 'offline_access'], ['profile']), true);
  });

  test('a session missing one requested scope does not', () => {
    assert.equal(scopesSatisfy(['openid', 'profile'], ['openid', 'repo']), false);
  });

  test('an empty request is served by any session', () => {
    assert.equal(scopesSatisfy([], []), true);
    assert.equal(scopesSatisfy(['openid'], []), true);
  });

  test('duplicate requested scopes do not matter', () => {
    assert.equal(scopesSatisfy(['openid'], ['openid', 'openid']), true);
  });

  test('scope names are compared exactly (case matters)', () => {
    assert.equal(scopesSatisfy(['OpenID'], ['openid']), false);
  });
});

describe('signInScopes', () => {
  test('is the union of configured and requested scopes, normalized', () => {
    assert.deepEqual(signInScopes(['repo', 'openid'], ['openid', 'profile']), ['openid', 'profile', 'repo']);
  });

  test('with nothing requested, is the configured scopes', () => {
    assert.deepEqual(signInScopes([], ['profile', 'openid']), ['openid', 'profile']);
  });

  test('a session signed in with these scopes satisfies the request that caused it', () => {
    const requested = ['read:things', 'write:things'];
    assert.equal(scopesSatisfy(signInScopes(requested, ['openid']), requested), true);
  });
});
