import * as oauth from 'oauth4webapi';
import { abortReason } from './clock.js';
import type { CallbackPages } from './callbackPages.js';
import { startCallbackServer } from './callbackServer.js';
import type { OAuthClient } from './client.js';
import { OAuthError } from './errors.js';
import { toOAuthError } from './errorMapping.js';
import { listedStrings } from './metadataLists.js';
import { parsePastedResponse } from './pastedResponse.js';
import { untrustedText } from './untrustedText.js';
import { describeDuration } from './duration.js';
import type { Logger, SignInResult } from './types.js';
import { silentLogger } from './types.js';

/** Whether the browser really runs where the callback server listens, found out through /start. */
export interface BrowserCheck {
  /** How long after the browser was opened /start must have been reached. */
  timeoutMs: number;
  /** Called once when it was not: the browser is elsewhere. The sign-in itself goes on. */
  onMissed(): void;
  /**
   * The Host a port forward that moves the path (code-server's /proxy/PORT/) delivers /start with.
   * VS Code sends a 127.0.0.1 address it opens through such a forward, so it is accepted too.
   */
  forwardedAuthority?: string;
}

/** Finishing the sign-in by hand, when the browser cannot deliver the redirect to this machine. */
export interface PasteEntry {
  /** The identity provider's address the sign-in starts at, for a person to open anywhere. */
  authorizeUrl: string;
  /** Where the identity provider sends the browser; the pasted address starts with it. */
  redirectUri: string;
  /**
   * Takes the address the browser was redirected to (or its query, or the bare code). "retry" when
   * the text is not a response to this sign-in (nothing was spent: the person may paste again);
   * "finished" when it was taken, and the sign-in's own promise settles with the outcome.
   */
  submit(text: string): Promise<PasteOutcome>;
}

export type PasteOutcome = { status: 'retry'; reason: string } | { status: 'finished' };

export interface LoopbackSignInOptions {
  scopes: readonly string[];
  pages: CallbackPages;
  /** Opens the URL where the user is; resolves false when no browser could be opened. */
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
  /**
   * Asked once the redirect URI is settled. A check makes the browser open this server's own /start
   * (which redirects to the identity provider) instead of the identity provider: reaching it proves
   * the browser can reach the redirect URI too. Without one, the identity provider is opened directly.
   */
  browserCheck?(redirectUri: string): BrowserCheck | undefined;
  /** Receives the way to finish by pasting, before the browser is opened. */
  onPasteReady?(entry: PasteEntry): void;
  /**
   * Told once when the browser reached /start (so it runs on this machine and went on to the identity
   * provider) but no redirect came back within `afterMs`: most often the identity provider refused
   * the redirect URI and shows its own error page. The sign-in goes on.
   */
  noReturn?: { afterMs: number; notify(redirectUri: string): void };
  logger?: Logger;
}

const defaultTimeoutMs = 5 * 60_000;
const startPath = '/start';

/**
 * Authorization code + PKCE (S256) with a one-shot callback server (RFC 8252, RFC 7636, RFC 9207).
 * The authorization response arrives either at the server or pasted by a person; whichever comes
 * first is validated the same way (state, iss) and redeemed; the other is refused from then on.
 */
export async function signInWithLoopback(client: OAuthClient, options: LoopbackSignInOptions): Promise<SignInResult> {
  const logger = options.logger ?? silentLogger;
  // Checked after every wait before the browser opens: a sign-in cancelled meanwhile (a port forward
  // being set up, VS Code asking whether to open the browser) must not go on to open it.
  const stopIfAborted = () => {
    if (options.signal?.aborted) throw abortReason(options.signal);
  };
  const as = await client.metadata(options.signal);
  stopIfAborted();
  if (!as.authorization_endpoint) {
    throw new OAuthError('unsupported', `${client.issuer.href} offers no authorization endpoint (browser sign-in).`);
  }
  const pkceMethods = listedStrings(as.code_challenge_methods_supported);
  if (pkceMethods && !pkceMethods.includes('S256')) {
    logger.warn(`${client.issuer.href} does not list PKCE S256 in its metadata; sending it anyway, as this extension never signs in without PKCE.`);
  }

  const codeVerifier = oauth.generateRandomCodeVerifier();
  const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
  stopIfAborted();
  const state = oauth.generateRandomState();
  // A nonce travels back only in an ID token, which comes only when `openid` is asked for: a plain
  // OAuth 2.0 sign-in sends none, and oauth4webapi then expects no ID token.
  const nonce = client.expectsIdToken(options.scopes) ? oauth.generateRandomNonce() : undefined;

  let redirectUri = '';
  let settle!: { resolve(result: SignInResult): void; reject(error: unknown): void };
  const outcome = new Promise<SignInResult>((resolve, reject) => (settle = { resolve, reject }));
  // It may settle (timeout, abort) while the browser is still being opened; it is awaited below.
  outcome.catch(() => undefined);

  /** One authorization response is redeemed, from the browser or pasted; never two. */
  let claimed = false;
  const redeem = async (parameters: URLSearchParams, arrived: string): Promise<SignInResult> => {
    try {
      const validated = validateCallback(as, client, parameters, state);
      logger.info(`${arrived}; exchanging the authorization code.`);
      const result = await client.exchangeCode(validated, redirectUri, codeVerifier, nonce, options.scopes, options.signal);
      settle.resolve(result);
      return result;
    } catch (error) {
      const mapped = toOAuthError(error, 'completing the browser sign-in');
      settle.reject(mapped);
      throw mapped;
    }
  };

  const server = await startCallbackServer({
    port: options.port,
    expectedState: state,
    pages: options.pages,
    onCallback: async (parameters) => {
      if (claimed) return { ok: false, message: 'This sign-in was already completed in VS Code. You can close this tab.' };
      claimed = true;
      try {
        const result = await redeem(parameters, 'The browser came back with an authorization code');
        return { ok: true, label: result.identity.label };
      } catch (error) {
        return { ok: false, message: (error as OAuthError).message };
      }
    },
  });

  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  let reached = false;
  const timer = setTimeout(() => {
    const waited = describeDuration(timeoutMs);
    settle.reject(
      reached
        ? new OAuthError('redirect_refused', `The browser went on to the identity provider, but it did not send the browser back to ${redirectUri} within ${waited}.`)
        : new OAuthError('browser_timeout', `The browser did not come back with the sign-in within ${waited}.`),
    );
  }, timeoutMs);
  let checkTimer: NodeJS.Timeout | undefined;
  let noReturnTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    settle.reject(abortReason(options.signal!));
    // Stops listening at once, even while the browser is still being opened.
    server.close().catch(() => undefined);
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  // VS Code's port forwarding and its "open the external website?" question may take as long as they
  // like: the sign-in's timeout or Cancel ends the wait for them (and the finally below closes the
  // port) instead of waiting for their answer. `ifSignedIn` stands for their answer when the browser
  // already came back meanwhile.
  const unlessEnded = <T>(work: Promise<T>, ifSignedIn: T): Promise<T> => Promise.race([work, outcome.then(() => ifSignedIn)]);

  try {
    stopIfAborted();
    redirectUri = options.forwardRedirect ? await unlessEnded(options.forwardRedirect(server.redirectUri), server.redirectUri) : server.redirectUri;
    stopIfAborted();
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

    options.onPasteReady?.({
      authorizeUrl: authorizeUrl.href,
      redirectUri,
      submit: async (text) => {
        if (claimed) return { status: 'finished' };
        const verdict = pastedParameters(text, as, state, redirectUri);
        if ('retry' in verdict) return { status: 'retry', reason: verdict.retry };
        claimed = true;
        await redeem(verdict.parameters, 'A pasted authorization response arrived').catch(() => undefined);
        return { status: 'finished' };
      },
    });

    const check = options.browserCheck?.(redirectUri);
    if (check?.forwardedAuthority) server.allowHost(check.forwardedAuthority);
    // Always the 127.0.0.1 address: VS Code itself routes it through the remote's port forward.
    const opened = check
      ? server.redirectStartTo(authorizeUrl.href, () => {
          if (reached) return;
          reached = true;
          clearTimeout(checkTimer);
          logger.info(`The browser reached ${startPath}; it is being sent on to the identity provider.`);
          const noReturn = options.noReturn;
          if (noReturn) {
            noReturnTimer = setTimeout(() => {
              if (claimed) return;
              logger.warn(`The browser went on to the identity provider ${describeDuration(noReturn.afterMs)} ago and has not come back to ${redirectUri}: the identity provider may refuse that redirect URI.`);
              noReturn.notify(redirectUri);
            }, noReturn.afterMs);
          }
        })
      : authorizeUrl.href;
    logger.info(`Waiting for the browser on 127.0.0.1:${server.port} (times out in ${describeDuration(timeoutMs)}${check ? `; it must reach ${startPath} within ${describeDuration(check.timeoutMs)}` : ''}).`);
    const browserOpened = await unlessEnded(options.openBrowser(opened), true);
    stopIfAborted();
    if (!browserOpened) {
      throw new OAuthError('browser_unavailable', `Opening ${new URL(opened).origin} in a browser failed.`);
    }
    // Counted from here: a person answering VS Code's "open the external website?" is not the browser being slow.
    if (check && !reached) {
      checkTimer = setTimeout(() => {
        if (reached) return;
        logger.info(`The browser did not reach ${startPath} within ${describeDuration(check.timeoutMs)}: it is not on this machine, or no browser opened.`);
        check.onMissed();
      }, check.timeoutMs);
    }
    return await outcome;
  } finally {
    clearTimeout(timer);
    clearTimeout(checkTimer);
    clearTimeout(noReturnTimer);
    options.signal?.removeEventListener('abort', onAbort);
    // It stops listening at once; the browser's page finishes on its own, without holding up the session.
    server.close().catch(() => undefined);
  }
}

/**
 * A pasted response as the parameters a real callback would carry, or why it is not one for this
 * sign-in. A bare code carries no state or iss: PKCE still binds it to this sign-in, as only this
 * code verifier redeems it at the token endpoint.
 */
function pastedParameters(text: string, as: oauth.AuthorizationServer, state: string, redirectUri: string): { parameters: URLSearchParams } | { retry: string } {
  const pasted = parsePastedResponse(text);
  if (pasted.kind === 'unrecognized') return { retry: pasted.reason };
  if (pasted.kind === 'code') {
    const parameters = new URLSearchParams({ code: pasted.code, state });
    if (as.authorization_response_iss_parameter_supported) parameters.set('iss', as.issuer);
    return { parameters };
  }
  const expectedPath = new URL(redirectUri).pathname;
  if (pasted.path !== undefined && pasted.path !== expectedPath) {
    return { retry: `That address is not where the identity provider sends the browser after signing in. Paste the one that starts with ${redirectUri}.` };
  }
  const states = pasted.parameters.getAll('state');
  if (states.length !== 1 || states[0] !== state) {
    return { retry: 'That address belongs to another sign-in (its "state" does not match this one). Paste the address from the sign-in you just approved.' };
  }
  return { parameters: pasted.parameters };
}

/**
 * state and RFC 9207 `iss` through oauth4webapi; a missing `iss` (that the metadata promised) and a
 * different one are told apart, as their likely causes differ.
 */
function validateCallback(as: oauth.AuthorizationServer, client: OAuthClient, parameters: URLSearchParams, state: string): URLSearchParams {
  try {
    return oauth.validateAuthResponse(as, { client_id: client.clientId }, parameters, state);
  } catch (error) {
    if (error instanceof oauth.OperationProcessingError && /"iss"/.test(error.message)) {
      if (!parameters.has('iss')) {
        throw new OAuthError('issuer_missing', 'The sign-in response carries no "iss" (issuer), although the identity provider\'s metadata says it always sends one (RFC 9207). It was refused.');
      }
      throw new OAuthError('issuer_mismatch', `The sign-in response names the issuer "${untrustedText(parameters.get('iss') ?? '', 120)}", not ${as.issuer} (RFC 9207). It was refused.`);
    }
    throw error;
  }
}

function buildAuthorizeUrl(endpoint: string, parameters: Record<string, string>): URL {
  const url = new URL(endpoint);
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url;
}
