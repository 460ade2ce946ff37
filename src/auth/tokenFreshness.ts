import type { TokenSet } from '../oauth/types.js';

/** At most this long before expiry a token is refreshed, so a caller never gets one about to lapse. */
export const maxRefreshMarginMs = 5 * 60_000;

/**
 * True when the access token should be refreshed before it is handed out: within a quarter of its
 * lifetime of expiry, capped at five minutes. Tokens without `expires_in` never expire here; the IdP
 * says when they stop working.
 */
export function needsRefresh(tokens: TokenSet, now: number): boolean {
  if (tokens.expiresAt === undefined) return false;
  const lifetime = Math.max(0, tokens.expiresAt - tokens.obtainedAt);
  const margin = Math.min(maxRefreshMarginMs, lifetime / 4);
  return tokens.expiresAt - now <= margin;
}

export function isExpired(tokens: TokenSet, now: number): boolean {
  return tokens.expiresAt !== undefined && tokens.expiresAt <= now;
}
