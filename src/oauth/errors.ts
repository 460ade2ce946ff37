/**
 * One error type for everything the OAuth core can fail with. `kind` is coarse and stable (sessions
 * decide on it: only `invalid_grant` drops a session); `reason` names the cause precisely, so the shell
 * can say what happened and give the one piece of advice that fits (src/vscode/errorMessages.ts).
 * `message` states the facts (which step, which endpoint, what the identity provider said), never
 * advice, and never carries a secret.
 */
export type OAuthErrorKind =
  | 'cancelled' // the user or the caller aborted
  | 'denied' // the user said no at the identity provider (access_denied)
  | 'expired' // the device code or the sign-in attempt expired before approval
  | 'timeout' // the identity provider did not answer in time, or the browser never came back
  | 'network' // connection refused, reset, DNS failure
  | 'idp_error' // the identity provider answered with an error status or an OAuth error
  | 'invalid_grant' // a refresh token or code was rejected: the session is no longer valid
  | 'invalid_response' // a response that breaks the protocol: bad JSON, wrong issuer, bad signature, state
  | 'misconfigured' // settings that cannot work: missing issuer, plain http, unsupported flow
  | 'unsupported' // the identity provider lacks what the flow needs (e.g. no device endpoint)
  | 'browser_unavailable'; // no browser could be opened where VS Code runs

/** The cause of a failure, one per piece of advice; each belongs to one kind (`reasonKinds`). */
export type FailureReason =
  | 'cancelled'
  | 'denied'
  | 'code_expired' // the device code ran out before approval
  | 'answer_lost' // a token answer may have been issued but never arrived
  | 'idp_unavailable' // 429, 502, 503, 504, temporarily_unavailable: overloaded or down for now
  | 'idp_failed' // 500, an unknown OAuth error code: broken at the identity provider
  | 'timeout' // no answer within the request timeout
  | 'browser_timeout' // the browser never came back with the authorization response
  | 'redirect_refused' // the browser reached the identity provider but was never sent back
  | 'network' // connection refused, reset, DNS
  | 'session_expired' // a refresh token or access token the identity provider no longer accepts
  | 'grant_rejected' // an authorization or device code refused while it should still work
  | 'client_rejected' // invalid_client, unauthorized_client, unsupported_grant_type
  | 'scope_rejected' // invalid_scope
  | 'redirected' // an HTTP redirect, which OAuth requests do not follow: most often a wrong issuer URL
  | 'not_json' // an answer that is not JSON (HTML, a login page, a truncated body)
  | 'too_large' // an answer over the size limit
  | 'issuer_missing' // RFC 9207: the authorization response lacks the promised `iss`
  | 'issuer_mismatch' // RFC 9207: the authorization response names another issuer
  | 'metadata_issuer_mismatch' // the discovery document names another issuer than the setting
  | 'id_token_rejected' // the ID token's claims failed (nonce, audience, times)
  | 'signature_rejected' // the ID token's signature could not be verified
  | 'protocol_violation' // any other answer that breaks OAuth (missing or mistyped fields)
  | 'unsafe_url' // a URL from the identity provider that is not https (or http on loopback)
  | 'settings' // a setting that cannot work
  | 'metadata_incomplete' // the provider's metadata lacks an endpoint the step needs
  | 'port_in_use' // the fixed loopback port is taken: most often by another sign-in in progress
  | 'port_unavailable' // the loopback port cannot be opened for another reason
  | 'unsupported' // the provider does not offer the flow at all
  | 'browser_unavailable'
  | 'unexpected'; // a failure outside every case above (a bug, or something unforeseen)

/** The kind every reason belongs to. */
export const reasonKinds: Readonly<Record<FailureReason, OAuthErrorKind>> = {
  cancelled: 'cancelled',
  denied: 'denied',
  code_expired: 'expired',
  answer_lost: 'timeout',
  idp_unavailable: 'idp_error',
  idp_failed: 'idp_error',
  timeout: 'timeout',
  browser_timeout: 'timeout',
  redirect_refused: 'timeout',
  network: 'network',
  session_expired: 'invalid_grant',
  grant_rejected: 'invalid_grant',
  client_rejected: 'misconfigured',
  scope_rejected: 'misconfigured',
  redirected: 'misconfigured',
  not_json: 'invalid_response',
  too_large: 'invalid_response',
  issuer_missing: 'invalid_response',
  issuer_mismatch: 'invalid_response',
  metadata_issuer_mismatch: 'invalid_response',
  id_token_rejected: 'invalid_response',
  signature_rejected: 'invalid_response',
  protocol_violation: 'invalid_response',
  unsafe_url: 'invalid_response',
  settings: 'misconfigured',
  metadata_incomplete: 'misconfigured',
  port_in_use: 'misconfigured',
  port_unavailable: 'misconfigured',
  unsupported: 'unsupported',
  browser_unavailable: 'browser_unavailable',
  unexpected: 'invalid_response',
};

/** The reason of an error made with a kind alone (by code that predates reasons). */
const defaultReasons: Readonly<Record<OAuthErrorKind, FailureReason>> = {
  cancelled: 'cancelled',
  denied: 'denied',
  expired: 'code_expired',
  timeout: 'timeout',
  network: 'network',
  idp_error: 'idp_failed',
  invalid_grant: 'session_expired',
  invalid_response: 'protocol_violation',
  misconfigured: 'settings',
  unsupported: 'unsupported',
  browser_unavailable: 'browser_unavailable',
};

export interface OAuthErrorDetails {
  status?: number;
  oauthError?: string;
  retryAfterSeconds?: number;
  /** The grant (device code, authorization code) was already exchanged: never retry with it. */
  grantRedeemed?: boolean;
  /** The request may have reached the identity provider, which may have acted on it; its answer never arrived. */
  answerLost?: boolean;
  cause?: unknown;
}

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly kind: OAuthErrorKind;
  readonly reason: FailureReason;

  /** Takes a reason (which implies its kind) or, as before reasons existed, a kind alone. */
  constructor(
    cause: FailureReason | OAuthErrorKind,
    message: string,
    readonly details: OAuthErrorDetails = {},
  ) {
    super(message);
    if (cause in reasonKinds) {
      this.reason = cause as FailureReason;
      this.kind = reasonKinds[this.reason];
    } else {
      this.kind = cause as OAuthErrorKind;
      this.reason = defaultReasons[this.kind];
    }
  }
}

/** An OAuthError, of `kind` when given. */
export function isOAuthError(error: unknown, kind?: OAuthErrorKind): error is OAuthError {
  return error instanceof OAuthError && (kind === undefined || error.kind === kind);
}

/** The reason of any error: its own for an OAuthError, "unexpected" for anything else. */
export function reasonOf(error: unknown): FailureReason {
  if (!isOAuthError(error)) return 'unexpected';
  return typeof error.reason === 'string' && error.reason in reasonKinds ? error.reason : defaultReasons[error.kind] ?? 'unexpected';
}

export function cancelled(what = 'Sign-in'): OAuthError {
  return new OAuthError('cancelled', `${what} was cancelled.`);
}

/** The message of anything thrown, for a log line or an error's detail. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
