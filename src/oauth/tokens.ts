import type * as oauth from 'oauth4webapi';
import type { Identity, TokenSet } from './types.js';

/**
 * A token endpoint answer as a TokenSet. Expiry comes from `expires_in` counted from `receivedAt`
 * (our clock, taken when the request was sent), never from the IdP's clock, so skew cannot make a fresh
 * token look expired. `previous` carries over what a refresh answer may leave out.
 */
export function tokenSetFrom(
  body: oauth.TokenEndpointResponse,
  requestedScopes: readonly string[],
  receivedAt: number,
  previous?: TokenSet,
): TokenSet {
  const granted = typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : undefined;
  return {
    accessToken: body.access_token,
    tokenType: body.token_type ?? 'bearer',
    expiresAt: typeof body.expires_in === 'number' ? receivedAt + body.expires_in * 1000 : undefined,
    obtainedAt: receivedAt,
    refreshToken: body.refresh_token ?? previous?.refreshToken,
    idToken: body.id_token ?? previous?.idToken,
    scopes: granted ?? previous?.scopes ?? [...requestedScopes],
  };
}

/** The account's name as people know it: preferred_username, else email, else name, else sub. */
export function identityFromClaims(claims: { sub: string; [claim: string]: unknown }): Identity {
  const pick = (name: string) => {
    const value = claims[name];
    return typeof value === 'string' && value.trim() ? value.trim() : undefined;
  };
  return {
    subject: claims.sub,
    label: pick('preferred_username') ?? pick('email') ?? pick('name') ?? claims.sub,
  };
}
