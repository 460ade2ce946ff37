import { codeRefused, fromOAuthErrorCode, retryAfterSeconds, temporaryStatuses } from './errorMapping.js';
import { OAuthError } from './errors.js';

/**
 * What a device poll's non-200 answer means (RFC 8628 3.5). The OAuth error in the body decides
 * first, the HTTP status second: real providers send `slow_down` with 429 and
 * `authorization_pending` with 403 or 428, and a load balancer's 503 carries no OAuth error at all.
 * `unknown`: neither says anything polling understands; oauth4webapi's own processing names the error.
 */
export type PollErrorAnswer =
  | { verdict: 'pending' }
  | { verdict: 'slow_down'; retryAfterSeconds?: number }
  | { verdict: 'back_off'; error: OAuthError }
  | { verdict: 'final'; error: OAuthError }
  | { verdict: 'unknown' };

/** Error codes that end a device sign-in whatever the status they came with. */
const finalCodes: ReadonlySet<string> = new Set([
  'access_denied',
  'expired_token',
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_request',
]);

/** Gateways answer these when the server behind them may have acted on the request anyway. */
const gatewayStatuses: ReadonlySet<number> = new Set([502, 504]);

export async function readPollError(response: Response, action: string): Promise<PollErrorAnswer> {
  const { status } = response;
  const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
  const body = await oauthErrorBody(response);
  const code = body?.error;
  if (code === 'authorization_pending') return { verdict: 'pending' };
  if (code === 'slow_down') return { verdict: 'slow_down', retryAfterSeconds: retryAfter };
  const extra = { status, retryAfterSeconds: retryAfter };
  if (code && finalCodes.has(code)) return { verdict: 'final', error: codeRefused(fromOAuthErrorCode(code, body.error_description, action, extra)) };
  if (code === 'temporarily_unavailable' || temporaryStatuses.has(status)) {
    const answered = code ? fromOAuthErrorCode(code, body.error_description, action, extra).message : `The identity provider answered HTTP ${status} while ${action}.`;
    return { verdict: 'back_off', error: new OAuthError('idp_unavailable', answered, { ...extra, oauthError: code, answerLost: gatewayStatuses.has(status) }) };
  }
  if (code) return { verdict: 'final', error: fromOAuthErrorCode(code, body.error_description, action, extra) };
  return { verdict: 'unknown' };
}

/** The body's OAuth error, from a copy of the response (the original stays unread), if it has one. */
async function oauthErrorBody(response: Response): Promise<{ error: string; error_description?: string } | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await response.clone().text());
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { error, error_description: description } = parsed as Record<string, unknown>;
  if (typeof error !== 'string' || !error) return undefined;
  return { error, error_description: typeof description === 'string' ? description : undefined };
}
