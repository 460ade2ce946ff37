import * as oauth from 'oauth4webapi';
import { OAuthError, isOAuthError } from './errors.js';
import { redactSecretShapes } from './redact.js';

/**
 * Turns whatever oauth4webapi or fetch threw into an OAuthError whose message says what failed and
 * what to do. `action` names the step for the message ("refreshing the session"). The library's own
 * error objects can carry response bodies with tokens in them, so nothing is copied from them but
 * status codes and the IdP's OAuth error code and description.
 */
export function toOAuthError(error: unknown, action: string): OAuthError {
  if (isOAuthError(error)) return error;

  if (error instanceof oauth.ResponseBodyError) {
    return fromOAuthErrorCode(error.error, error.error_description, action, {
      status: error.status,
      retryAfterSeconds: retryAfterSeconds(error.response.headers.get('retry-after')),
    });
  }
  if (error instanceof oauth.AuthorizationResponseError) return fromOAuthErrorCode(error.error, error.error_description, action);

  if (error instanceof oauth.WWWAuthenticateChallengeError) return fromChallenge(error, action);

  if (error instanceof oauth.OperationProcessingError) return fromProcessingError(error, action);

  if (error instanceof oauth.UnsupportedOperationError) {
    return new OAuthError('unsupported', `The identity provider's answer uses something this extension does not support while ${action}: ${error.message}`);
  }

  const message = error instanceof Error ? error.message : String(error);
  return new OAuthError('invalid_response', `Unexpected failure while ${action}: ${message}`, { cause: error });
}

export function fromOAuthErrorCode(
  code: string,
  description: string | undefined,
  action: string,
  extra: { status?: number; retryAfterSeconds?: number } = {},
): OAuthError {
  const said = description ? ` The identity provider said: "${clip(description)}"` : '';
  switch (code) {
    case 'access_denied':
      return new OAuthError('denied', `Sign-in was denied at the identity provider.${said}`, { ...extra, oauthError: code });
    case 'expired_token':
      return new OAuthError('expired', `The sign-in code expired before it was approved. Start the sign-in again.${said}`, { ...extra, oauthError: code });
    case 'invalid_grant':
      return new OAuthError('invalid_grant', `The identity provider rejected the grant while ${action}; the session is no longer valid. Sign in again.${said}`, { ...extra, oauthError: code });
    case 'invalid_client':
    case 'unauthorized_client':
    case 'unsupported_grant_type':
    case 'invalid_scope':
      return new OAuthError('misconfigured', `The identity provider refused the client while ${action} (${code}). Check the client id, its allowed grant types and the scopes.${said}`, { ...extra, oauthError: code });
    default:
      return new OAuthError('idp_error', `The identity provider returned "${clip(code, 64)}" while ${action}.${said}`, { ...extra, oauthError: code });
  }
}

/**
 * Only a Bearer/DPoP challenge about the token means the session is gone; a Basic challenge or
 * invalid_client (RFC 6749 5.2) is about the client's registration, and dropping the session would
 * not help.
 */
function fromChallenge(error: oauth.WWWAuthenticateChallengeError, action: string): OAuthError {
  const challenge = error.cause[0];
  const scheme = challenge?.scheme.toLowerCase();
  const code = challenge?.parameters.error;
  const extra = { status: error.status, oauthError: code };
  if (code === 'invalid_client' || scheme === 'basic') {
    return new OAuthError('misconfigured', `The identity provider refused the client while ${action}${code ? ` (${code})` : ''}. Check the client id and that it is registered as a public client.`, extra);
  }
  if ((scheme === 'bearer' || scheme === 'dpop') && (code === 'invalid_token' || (error.status === 401 && !code))) {
    return new OAuthError('invalid_grant', `The identity provider no longer accepts this session's token while ${action}. Sign in again.`, extra);
  }
  return new OAuthError('idp_error', `The identity provider refused the request while ${action} (HTTP ${error.status}${code ? `, ${clip(code, 64)}` : ''}).`, extra);
}

function fromProcessingError(error: oauth.OperationProcessingError, action: string): OAuthError {
  switch (error.code) {
    case oauth.RESPONSE_IS_NOT_CONFORM: {
      const response = error.cause instanceof Response ? error.cause : undefined;
      const status = response?.status;
      const retryAfter = retryAfterSeconds(response?.headers.get('retry-after'));
      const wait = retryAfter !== undefined ? ` It asks to retry after ${retryAfter} s.` : '';
      return new OAuthError('idp_error', `The identity provider answered HTTP ${status ?? '(unknown)'} while ${action}.${wait} Try again later; if it persists, check the issuer URL.`, { status, retryAfterSeconds: retryAfter });
    }
    case oauth.RESPONSE_IS_NOT_JSON:
    case oauth.PARSE_ERROR:
      return new OAuthError('invalid_response', `The identity provider's answer while ${action} is not valid JSON. Is the issuer URL right, and is no proxy replacing the answer?`);
    case oauth.JSON_ATTRIBUTE_COMPARISON:
      return new OAuthError('invalid_response', `The identity provider's metadata names a different issuer than the one configured. Set the issuer exactly as the provider's discovery document states it.`);
    case oauth.JWT_CLAIM_COMPARISON:
    case oauth.JWT_TIMESTAMP_CHECK:
      return new OAuthError('invalid_response', `The ID token failed validation while ${action} (${error.message.replace(/"/g, '')}). Check the system clock and the client id.`);
    case oauth.KEY_SELECTION:
      return new OAuthError('invalid_response', `The ID token's signing key is not in the identity provider's key set while ${action}.`);
    case oauth.MISSING_SERVER_METADATA:
    case oauth.INVALID_SERVER_METADATA:
      return new OAuthError('misconfigured', `The identity provider's metadata lacks what is needed for ${action}: ${error.message.replace(/"/g, '')}. Set the endpoint explicitly in oauthAnywhere.endpoints.`);
    default:
      return new OAuthError('invalid_response', `The identity provider's answer is not valid while ${action}: ${error.message.replace(/"/g, '')}.`);
  }
}

function retryAfterSeconds(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.round((date - Date.now()) / 1000));
}

/** IdP-supplied text goes into messages: short, single-line, and without anything token-shaped. */
function clip(text: string, max = 200): string {
  const line = redactSecretShapes(text).replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
