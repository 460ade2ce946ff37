import * as oauth from 'oauth4webapi';
import { OAuthError, isOAuthError, type FailureReason, errorText } from './errors.js';
import { untrustedText } from './untrustedText.js';

/**
 * Turns whatever oauth4webapi or fetch threw into an OAuthError whose reason names the cause and whose
 * message states the facts: the step (`action`, e.g. "refreshing the session"), the HTTP status or
 * OAuth error code, and the identity provider's own description. Advice is the shell's, one per
 * reason. The library's error objects can carry response bodies with tokens in them, so nothing is
 * copied from them but status codes and the IdP's OAuth error code and description, as plain text.
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
    return new OAuthError('protocol_violation', `The identity provider's answer while ${action} uses something this extension does not support (${plain(error.message)}).`);
  }

  const message = errorText(error);
  return new OAuthError('unexpected', `Unexpected failure while ${action}: ${plain(message)}`, { cause: error });
}

/** HTTP statuses that mean "not now" rather than "no": overloaded, or a gateway that lost its upstream. */
export const temporaryStatuses: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export function fromOAuthErrorCode(
  code: string,
  description: string | undefined,
  action: string,
  extra: { status?: number; retryAfterSeconds?: number } = {},
): OAuthError {
  const said = description ? ` It said: "${untrustedText(description)}"` : '';
  const answered = `The identity provider answered ${untrustedText(code, 64)}${extra.status ? ` (HTTP ${extra.status})` : ''} while ${action}.${said}`;
  const details = { ...extra, oauthError: code };
  return new OAuthError(reasonForCode(code, extra.status), answered, details);
}

function reasonForCode(code: string, status: number | undefined): FailureReason {
  switch (code) {
    case 'access_denied':
      return 'denied';
    case 'expired_token':
      return 'code_expired';
    case 'invalid_grant':
      // A refresh token refused: the session is over. A code refused is `codeRefused`'s to say.
      return 'session_expired';
    case 'invalid_client':
    case 'unauthorized_client':
    case 'unsupported_grant_type':
      return 'client_rejected';
    case 'invalid_scope':
      return 'scope_rejected';
    case 'temporarily_unavailable':
      return 'idp_unavailable';
    default:
      return status !== undefined && temporaryStatuses.has(status) ? 'idp_unavailable' : 'idp_failed';
  }
}

/**
 * invalid_grant for an authorization code or a device code: that code was refused, which says nothing
 * about any session (the default reading is about a refresh token).
 */
export function codeRefused(error: OAuthError): OAuthError {
  return error.details.oauthError === 'invalid_grant' ? new OAuthError('grant_rejected', error.message, error.details) : error;
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
  const answered = `The identity provider refused the request while ${action} (HTTP ${error.status}${code ? `, ${untrustedText(code, 64)}` : ''}).`;
  if (code === 'invalid_client' || scheme === 'basic') return new OAuthError('client_rejected', answered, extra);
  if ((scheme === 'bearer' || scheme === 'dpop') && (code === 'invalid_token' || (error.status === 401 && !code))) {
    return new OAuthError('session_expired', `The identity provider no longer accepts this session's access token (HTTP ${error.status}${code ? `, ${code}` : ''} while ${action}).`, extra);
  }
  return new OAuthError(temporaryStatuses.has(error.status) ? 'idp_unavailable' : 'idp_failed', answered, extra);
}

function fromProcessingError(error: oauth.OperationProcessingError, action: string): OAuthError {
  switch (error.code) {
    case oauth.RESPONSE_IS_NOT_CONFORM: {
      const response = error.cause instanceof Response ? error.cause : undefined;
      const status = response?.status;
      const retryAfter = retryAfterSeconds(response?.headers.get('retry-after'));
      const wait = retryAfter !== undefined ? ` It asked to retry after ${retryAfter} s.` : '';
      if (response && status !== undefined && status >= 300 && status < 400) return redirected(response, action);
      const reason = status !== undefined && temporaryStatuses.has(status) ? 'idp_unavailable' : 'idp_failed';
      return new OAuthError(reason, `The identity provider answered HTTP ${status ?? '(unknown)'} while ${action}.${wait}`, { status, retryAfterSeconds: retryAfter });
    }
    case oauth.RESPONSE_IS_NOT_JSON:
    case oauth.PARSE_ERROR:
      return new OAuthError('not_json', `The identity provider's answer while ${action} is not valid JSON.`);
    case oauth.JSON_ATTRIBUTE_COMPARISON: {
      const cause = error.cause as { attribute?: unknown; expected?: unknown; body?: Record<string, unknown> } | undefined;
      if (cause?.attribute === 'issuer') {
        return new OAuthError('metadata_issuer_mismatch', `Its discovery document states "issuer": "${untrustedText(String(cause.body?.issuer), 120)}", while ${String(cause.expected)} is configured (${action}).`);
      }
      return new OAuthError('protocol_violation', `The answer while ${action} is about someone or something else (${plain(error.message)}).`);
    }
    case oauth.JWT_CLAIM_COMPARISON:
    case oauth.JWT_TIMESTAMP_CHECK:
      return new OAuthError('id_token_rejected', `Checking the ID token while ${action}: ${plain(error.message)}.`);
    case oauth.KEY_SELECTION:
      return new OAuthError('signature_rejected', `The key that signed the ID token is not in the identity provider's key set (while ${action}).`);
    case oauth.MISSING_SERVER_METADATA:
    case oauth.INVALID_SERVER_METADATA:
      return new OAuthError('metadata_incomplete', `The identity provider's metadata lacks what ${action} needs (${plain(error.message)}).`);
    default:
      if (/signature/i.test(error.message)) return new OAuthError('signature_rejected', `${plain(error.message)} (while ${action}).`);
      if (/\bJWT\b.*\bclaim\b|ID Token/i.test(error.message)) return new OAuthError('id_token_rejected', `Checking the ID token while ${action}: ${plain(error.message)}.`);
      return new OAuthError('protocol_violation', `The identity provider's answer is not valid while ${action} (${plain(error.message)}).`);
  }
}

/**
 * A redirect: oauth4webapi follows none, on purpose (a token request must not be re-sent elsewhere).
 * Where it points (origin and path only: a query may carry anything) usually shows the right address.
 */
function redirected(response: Response, action: string): OAuthError {
  const location = response.headers.get('location');
  let target = '';
  try {
    if (location) {
      const url = new URL(location, response.url || undefined);
      target = `, a redirect to ${untrustedText(`${url.origin}${url.pathname}`, 200)}`;
    }
  } catch {
    target = ', a redirect to an address that is not a URL';
  }
  return new OAuthError('redirected', `The identity provider answered HTTP ${response.status}${target}, while ${action}; OAuth requests do not follow redirects.`, { status: response.status });
}

/** oauth4webapi's own message, as one plain line (it quotes field names). */
function plain(message: string): string {
  return untrustedText(message.replace(/"/g, ''), 300);
}

export function retryAfterSeconds(header: string | null | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.round((date - Date.now()) / 1000));
}
