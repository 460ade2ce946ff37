import type * as oauth from 'oauth4webapi';
import type { Identity, TokenSet } from './types.js';
import { untrustedText } from './untrustedText.js';

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
  const granted = typeof body.scope === 'string' ? scopeTokens(body.scope) : undefined;
  return {
    accessToken: body.access_token,
    tokenType: body.token_type ?? 'bearer',
    expiresAt: typeof body.expires_in === 'number' ? receivedAt + Math.min(body.expires_in, longestLifetimeSeconds) * 1000 : undefined,
    obtainedAt: receivedAt,
    refreshToken: body.refresh_token ?? previous?.refreshToken,
    idToken: body.id_token ?? previous?.idToken,
    scopes: granted ?? previous?.scopes ?? [...requestedScopes],
  };
}

/**
 * The longest an access token is taken to live, whatever `expires_in` says: 1e306 seconds is a finite
 * number whose milliseconds are not, and a session that expires at Infinity cannot be stored. A token
 * that really lives longer is simply refreshed once a year.
 */
const longestLifetimeSeconds = 365 * 24 * 3600;

/** RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The granted scopes in a `scope` answer: split on any whitespace, and only well-formed tokens kept.
 * A token with anything else (control characters, escape sequences for a terminal) is no scope this
 * extension asked for, and its text would reach `oauth-anywhere status` and the log.
 */
function scopeTokens(scope: string): string[] {
  return scope.split(/\s+/).filter((token) => scopeToken.test(token));
}

/** Claims tried in order for the name shown in the Accounts menu. */
const labelClaims = ['preferred_username', 'email', 'name'];

/**
 * The account's name as people know it: preferred_username, else email, else name, else sub. The name
 * is the identity provider's text and is shown by VS Code and by other extensions, so it is made plain
 * text (no link syntax, no icon syntax, no control characters, at most 128 characters); the subject
 * stays exact.
 */
export function identityFromClaims(claims: { sub: string; [claim: string]: unknown }): Identity {
  return identityFromFields(claims, ['sub'], labelClaims) ?? { subject: claims.sub, label: accountLabel(claims.sub) };
}

/**
 * An account's name as VS Code shows it: plain text (`untrustedText`), and `$(` kept from being read
 * as an icon (`$(name)`) by the pickers that list accounts, VS Code's own and other extensions', with
 * an invisible zero-width space after the `$`.
 */
function accountLabel(text: string): string {
  return untrustedText(text, 128).replace(/\$\(/g, '$\u200b(');
}

/**
 * An identity from any JSON object describing an account: the first of `subjectFields` that holds a
 * string or a number is the subject, the first of `labelFields` with text is the name (else the subject).
 */
export function identityFromFields(object: Record<string, unknown>, subjectFields: readonly string[], labelFields: readonly string[]): Identity | undefined {
  const subject = subjectFields.map((field) => idText(object[field])).find((value) => value !== undefined);
  if (subject === undefined) return undefined;
  const label = labelFields.map((field) => object[field]).find((value): value is string => typeof value === 'string' && !!untrustedText(value));
  return { subject, label: accountLabel(label ?? subject) };
}

function idText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/**
 * Plain OAuth 2.0 servers without userinfo sometimes name the account in the token answer itself
 * (`user_id`, `account_id`, `username`, ...).
 */
export function identityFromTokenAnswer(body: Record<string, unknown>): Identity | undefined {
  return identityFromFields(body, ['sub', 'user_id', 'account_id', 'uid'], ['preferred_username', 'username', 'user_name', 'login', 'email', 'name']);
}

/**
 * The account when the identity provider says nothing about it: one stable name per identity
 * provider, so signing in again replaces the session instead of adding another.
 */
export function placeholderIdentity(issuer: URL): Identity {
  return { subject: 'unnamed-account', label: `Account at ${issuer.host}` };
}
