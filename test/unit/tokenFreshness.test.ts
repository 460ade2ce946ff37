import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isExpired, maxRefreshMarginMs, needsRefresh } from '../../src/auth/tokenFreshness.js';
import type { TokenSet } from '../../src/oauth/types.js';

const obtainedAt = Date.UTC(2030, 0, 1);
const minute = 60_000;

function tokens(lifetimeMs: number | undefined): TokenSet {
  return {
    accessToken: 'at',
    tokenType: 'bearer',
    obtainedAt,
    expiresAt: lifetimeMs === undefined ? undefined : obtainedAt + lifetimeMs,
    scopes: ['openid'],
  };
}

describe('needsRefresh', () => {
  test('the margin is capped at five minutes', () => {
    assert.equal(maxRefreshMarginMs, 5 * minute);
  });

  test('a one-hour token is refreshed from five minutes before expiry, not earlier', () => {
    const set = tokens(60 * minute);
    const expiresAt = set.expiresAt!;
    assert.equal(needsRefresh(set, obtainedAt), false);
    assert.equal(needsRefresh(set, expiresAt - 5 * minute - 1), false);
    assert.equal(needsRefresh(set, expiresAt - 5 * minute), true);
    assert.equal(needsRefresh(set, expiresAt - 1), true);
  });

  test('a one-minute token is refreshed in its last quarter (15 s), not five minutes early', () => {
    const set = tokens(minute);
    const expiresAt = set.expiresAt!;
    assert.equal(needsRefresh(set, obtainedAt), false);
    assert.equal(needsRefresh(set, expiresAt - 15_000 - 1), false);
    assert.equal(needsRefresh(set, expiresAt - 15_000), true);
  });

  test('a twelve-minute token uses a quarter of its lifetime (3 min) as margin', () => {
    const set = tokens(12 * minute);
    const expiresAt = set.expiresAt!;
    assert.equal(needsRefresh(set, expiresAt - 3 * minute - 1), false);
    assert.equal(needsRefresh(set, expiresAt - 3 * minute), true);
  });

  test('an expired token needs refresh', () => {
    const set = tokens(60 * minute);
    assert.equal(needsRefresh(set, set.expiresAt! + 1), true);
  });

  test('a token that came with expires_in 0 needs refresh at once', () => {
    assert.equal(needsRefresh(tokens(0), obtainedAt), true);
  });

  test('a token without expiresAt never needs refresh, however late it is', () => {
    const set = tokens(undefined);
    assert.equal(needsRefresh(set, obtainedAt), false);
    assert.equal(needsRefresh(set, obtainedAt + 10 * 365 * 24 * 60 * minute), false);
  });
});

describe('isExpired', () => {
  test('is false before expiry and true from the expiry instant on', () => {
    const set = tokens(minute);
    assert.equal(isExpired(set, set.expiresAt! - 1), false);
    assert.equal(isExpired(set, set.expiresAt!), true);
    assert.equal(isExpired(set, set.expiresAt! + 1), true);
  });

  test('a token without expiresAt never expires here', () => {
    assert.equal(isExpired(tokens(undefined), Number.MAX_SAFE_INTEGER), false);
  });
});
