/**
 * One error type for everything the OAuth core can fail with. `kind` is stable (the shell maps it to a
 * message and actions); `message` is written for a person and never carries a secret.
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

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly kind: OAuthErrorKind,
    message: string,
    readonly details: {
      status?: number;
      oauthError?: string;
      retryAfterSeconds?: number;
      /** The grant (device code, authorization code) was already exchanged: never retry with it. */
      grantRedeemed?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(message);
  }
}

/**
 * Recognises an OAuthError by its shape, not by `instanceof`: the OAuth core is loaded as a bundle of
 * its own on first use, so its errors are instances of that bundle's copy of the class.
 */
export function isOAuthError(error: unknown, kind?: OAuthErrorKind): error is OAuthError {
  return error instanceof Error && error.name === 'OAuthError' && typeof (error as OAuthError).kind === 'string' && (kind === undefined || (error as OAuthError).kind === kind);
}

export function cancelled(what = 'Sign-in'): OAuthError {
  return new OAuthError('cancelled', `${what} was cancelled.`);
}
