import * as oauth from 'oauth4webapi';
import { abortReason } from './clock.js';
import type { CallbackPages } from './callbackPages.js';
import { startCallbackServer } from './callbackServer.js';
import type { OAuthClient } from './client.js';
import { OAuthError } from './errors.js';
import { toOAuthError } from './errorMapping.js';
import type { Logger, SignInResult } from './types.js';
import { silentLogger } from './types.js';

export interface LoopbackSignInOptions {
  scopes: readonly string[];
  pages: CallbackPages;
  /** Opens the authorize URL where the user is; resolves false when no browser could be opened. */
  openBrowser(url: string): Promise<boolean>;
  signal?: AbortSignal;
  /** How long to wait for the browser to come back; default 5 minutes. */
  timeoutMs?: number;
  port?: number;
  /** Sent as `login_hint` so the IdP offers that account first. */
  loginHint?: string;
  /**
   * In a remote, the browser reaches the callback through a port forward. Given the local redirect
   * URI, returns the one the browser must use (and whose Host the server must accept).
   */
  forwardRedirect?(localRedirectUri: string): Promise<string>;
  logger?: Logger;
}

const defaultTimeoutMs = 5 * 60_000;

/** Authorization code + PKCE (S256) with a one-shot callback server (RFC 8252, RFC 7636, RFC 9207). */
export async function signInWithLoopback(client: OAuthClient, options: LoopbackSignInOptions): Promise<SignInResult> {
  const logger = options.logger ?? silentLogger;
  const as = await client.metadata(options.signal);
  if (!as.authorization_endpoint) {
    throw new OAuthError('unsupported', `${client.issuer.href} offers no authorization endpoint, so the browser sign-in is not possible. Use the device flow, or set oauthAnywhere.endpoints.authorization_endpoint.`);
  }
  if (as.code_challenge_methods_supported && !as.code_challenge_methods_supported.includes('S256')) {
    logger.warn(`${client.issuer.href} does not list PKCE S256 in its metadata; sending it anyway, as this extension never signs in without PKCE.`);
  }

  const codeVerifier = oauth.generateRandomCodeVerifier();
  const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
  const state = oauth.generateRandomState();
  // A nonce travels back only in an ID token; a plain OAuth 2.0 provider (GitHub) issues none.
  const nonce = client.quirks.plainOAuth2 ? undefined : oauth.generateRandomNonce();

  let redirectUri = '';
  let settle!: { resolve(result: SignInResult): void; reject(error: unknown): void };
  const outcome = new Promise<SignInResult>((resolve, reject) => (settle = { resolve, reject }));
  // It may settle (timeout, abort) while the browser is still being opened; it is awaited below.
  outcome.catch(() => undefined);

  const server = await startCallbackServer({
    port: options.port,
    expectedState: state,
    pages: options.pages,
    onCallback: async (parameters) => {
      try {
        const validated = validateCallback(as, client, parameters, state);
        logger.info('The browser came back with an authorization code; exchanging it.');
        const result = await client.exchangeCode(validated, redirectUri, codeVerifier, nonce, options.scopes, options.signal);
        settle.resolve(result);
        return { ok: true, label: result.identity.label };
      } catch (error) {
        const mapped = toOAuthError(error, 'completing the browser sign-in');
        settle.reject(mapped);
        return { ok: false, message: mapped.message };
      }
    },
  });

  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const timer = setTimeout(() => {
    settle.reject(new OAuthError('timeout', `The browser did not come back within ${Math.round(timeoutMs / 60_000)} minutes. Start the sign-in again, or use a code instead.`));
  }, timeoutMs);
  const onAbort = () => settle.reject(abortReason(options.signal!));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    redirectUri = options.forwardRedirect ? await options.forwardRedirect(server.redirectUri) : server.redirectUri;
    server.allowHost(new URL(redirectUri).host);
    const authorizeUrl = buildAuthorizeUrl(as.authorization_endpoint, {
      // A preset's extra parameters (Auth0's audience) come first, so they can never replace ours.
      ...client.quirks.authorizationParameters,
      client_id: client.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: client.requestScopes(options.scopes).join(' '),
      state,
      ...(nonce ? { nonce } : {}),
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      ...(options.loginHint ? { login_hint: options.loginHint } : {}),
    });
    logger.info(`Waiting for the browser on 127.0.0.1:${server.port} (times out in ${Math.round(timeoutMs / 1000)} s).`);
    if (!(await options.openBrowser(authorizeUrl.href))) {
      throw new OAuthError('browser_unavailable', 'No browser could be opened for the sign-in. Use a code instead.');
    }
    return await outcome;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    await server.close();
  }
}

function validateCallback(as: oauth.AuthorizationServer, client: OAuthClient, parameters: URLSearchParams, state: string): URLSearchParams {
  try {
    return oauth.validateAuthResponse(as, { client_id: client.clientId }, parameters, state);
  } catch (error) {
    if (error instanceof oauth.OperationProcessingError && /iss/.test(error.message)) {
      throw new OAuthError('invalid_response', 'The sign-in response names a different issuer than the one configured (RFC 9207 "iss" check). It was refused; start the sign-in again.');
    }
    throw error;
  }
}

function buildAuthorizeUrl(endpoint: string, parameters: Record<string, string>): URL {
  const url = new URL(endpoint);
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url;
}
