import * as oauth from 'oauth4webapi';
import { isOAuthError, OAuthError, errorText } from './errors.js';
import { codeRefused, temporaryStatuses, toOAuthError } from './errorMapping.js';
import { boundedFetch, defaultHttpLimits, type HttpLimits, type HttpObserver } from './http.js';
import { openableUrl, parseEndpoint, parseIssuer } from './endpointUrls.js';
import { listedStrings } from './metadataLists.js';
import { readPollError } from './pollAnswer.js';
import { applyResponseQuirks, noQuirks, scopesToSend, withHarmlessDeviations, type Quirks } from './quirks.js';
import { realClock } from './clock.js';
import { identityFromClaims, identityFromFields, identityFromTokenAnswer, placeholderIdentity, tokenSetFrom } from './tokens.js';
import type { Clock, EndpointOverrides, Identity, Logger, ProviderConfig, SignInResult, TokenSet } from './types.js';
import { silentLogger } from './types.js';

export interface OAuthClientOptions {
  limits?: HttpLimits;
  logger?: Logger;
  clock?: Clock;
  /** Sees every request's origin + path (never its query or body): used by benchmarks and tests. */
  observe?: HttpObserver;
}

/** What the identity provider offers, as far as flow choice and sign-out care. */
export interface IdpCapabilities {
  authorizationCode: boolean;
  deviceGrant: boolean;
  revocation: boolean;
  userinfo: boolean;
}

/** What the identity provider says about an access token someone else refused. */
export type TokenCheck = 'valid' | 'rejected' | 'unchecked';

/** What a refresh brought. */
export interface RefreshResult {
  tokens: TokenSet;
  /** The refreshed ID token's `sub`, when one came and passed every check. */
  subject?: string;
  /** Why a new ID token was left out although the other tokens were kept. */
  idTokenProblem?: OAuthError;
}

/**
 * One poll's answer (RFC 8628 3.5). `unavailable`: the identity provider is overloaded or did not
 * answer (429, 502, 503, 504, temporarily_unavailable, a timeout, a dropped connection); the error says
 * which, whether it asked to wait (`retryAfterSeconds`) and whether it may have issued tokens whose
 * answer was lost (`answerLost`). Anything final is thrown.
 */
export type DeviceCodePoll =
  | { status: 'pending' }
  | { status: 'slow_down'; retryAfterSeconds?: number }
  | { status: 'unavailable'; error: OAuthError }
  | { status: 'approved'; result: SignInResult };

const manualEndpointsMark = 'token_endpoint';

/**
 * The identity provider as this extension talks to it: discovery (cached), and every token request
 * over oauth4webapi with the bounded fetch. One instance per issuer + client id.
 */
export class OAuthClient {
  readonly issuer: URL;
  readonly clientId: string;
  readonly quirks: Quirks;
  private readonly client: oauth.Client;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly fetch: ReturnType<typeof boundedFetch>;
  private metadataPromise: Promise<oauth.AuthorizationServer> | undefined;
  /** The IdP's signing keys, fetched once and refetched by oauth4webapi when a new key id appears. */
  private readonly jwks: oauth.JWKSCacheInput = {};

  constructor(
    readonly config: ProviderConfig,
    options: OAuthClientOptions = {},
  ) {
    this.issuer = parseIssuer(config.issuer);
    this.clientId = config.clientId.trim();
    if (!this.clientId) throw new OAuthError('settings', 'No client id is set (oauthAnywhere.clientId).');
    for (const [name, value] of Object.entries(config.endpoints ?? {}) as [string, string | undefined][]) {
      if (value) parseEndpoint(name, value);
    }
    this.quirks = config.quirks ?? noQuirks;
    if (this.quirks.accountEndpoint) parseEndpoint('accountEndpoint', this.quirks.accountEndpoint.url, 'the preset');
    this.client = { client_id: this.clientId };
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? realClock;
    const bounded = boundedFetch(options.limits ?? defaultHttpLimits, options.observe);
    this.fetch = applyResponseQuirks(withHarmlessDeviations(this.quirks), bounded, (deviation) => this.logger.debug(`Accepted from the identity provider: ${deviation}.`));
  }

  /** Authorization server metadata: discovered once, overlaid with explicit endpoints. */
  metadata(signal?: AbortSignal): Promise<oauth.AuthorizationServer> {
    if (!this.metadataPromise) {
      const started = this.clock.now();
      this.metadataPromise = this.discover().then(
        (metadata) => {
          this.logger.debug(`Metadata for ${this.issuer.href} ready in ${this.clock.now() - started} ms`);
          return metadata;
        },
        (error: unknown) => {
          // A failed discovery is not cached: the next sign-in tries again.
          this.metadataPromise = undefined;
          throw error;
        },
      );
    }
    return signal ? untilAborted(this.metadataPromise, signal) : this.metadataPromise;
  }

  async capabilities(signal?: AbortSignal): Promise<IdpCapabilities> {
    const as = await this.metadata(signal);
    const grants = listedStrings(as.grant_types_supported);
    return {
      authorizationCode: !!as.authorization_endpoint && (!grants || grants.includes('authorization_code')),
      deviceGrant: !!as.device_authorization_endpoint,
      revocation: !!as.revocation_endpoint && !this.quirks.noRevocation,
      userinfo: !!as.userinfo_endpoint,
    };
  }

  /** Options every oauth4webapi call gets; plain http only ever for a loopback issuer. */
  requestOptions(signal?: AbortSignal) {
    return {
      signal,
      [oauth.customFetch]: this.fetch,
      [oauth.allowInsecureRequests]: this.issuer.protocol === 'http:',
    };
  }

  /** The scopes to put into a request: the caller's, minus those the provider refuses (quirks). */
  requestScopes(scopes: readonly string[]): string[] {
    return scopesToSend(scopes, this.quirks);
  }

  /**
   * OpenID Connect is asked for (`openid` is sent), so an ID token must come back, carrying the
   * browser sign-in's nonce. Without `openid` it is plain OAuth 2.0: no nonce, no ID token.
   */
  expectsIdToken(scopes: readonly string[]): boolean {
    return !this.quirks.plainOAuth2 && this.requestScopes(scopes).includes('openid');
  }

  /**
   * Public clients authenticate with their id alone. A secret is only configured for providers that
   * demand one from native apps too (Google; GitHub's web flow), and goes in the body (client_secret_post).
   */
  private clientAuthentication(): oauth.ClientAuth {
    const secret = this.config.clientSecret?.trim();
    return secret ? oauth.ClientSecretPost(secret) : oauth.None();
  }

  async exchangeCode(
    callbackParameters: URLSearchParams,
    redirectUri: string,
    codeVerifier: string,
    /** Undefined only for plain OAuth 2.0 providers, which send no ID token to carry a nonce. */
    expectedNonce: string | undefined,
    requestedScopes: readonly string[],
    signal?: AbortSignal,
  ): Promise<SignInResult> {
    const action = 'exchanging the authorization code';
    const as = await this.metadata(signal);
    try {
      const response = await oauth.authorizationCodeGrantRequest(as, this.client, this.clientAuthentication(), callbackParameters, redirectUri, codeVerifier, this.requestOptions(signal));
      const body = await oauth.processAuthorizationCodeResponse(as, this.clientAt(response), response, { expectedNonce, requireIdToken: false });
      return await this.signInResult(as, response, body, requestedScopes, signal);
    } catch (error) {
      throw codeRefused(toOAuthError(error, action));
    }
  }

  async startDeviceAuthorization(scopes: readonly string[], signal?: AbortSignal): Promise<oauth.DeviceAuthorizationResponse> {
    const as = await this.metadata(signal);
    if (!as.device_authorization_endpoint) {
      throw new OAuthError('unsupported', `${this.issuer.href} offers no device authorization endpoint (sign-in with a code).`);
    }
    try {
      // Always without a secret: the providers that want one elsewhere (Google, GitHub) document only
      // client_id and scope here, and RFC 8628 3.1 asks no authentication of a public client.
      const parameters = { ...this.quirks.deviceAuthorizationParameters, scope: this.requestScopes(scopes).join(' ') };
      const response = await oauth.deviceAuthorizationRequest(as, this.client, oauth.None(), parameters, this.requestOptions(signal));
      return await oauth.processDeviceAuthorizationResponse(as, this.client, response);
    } catch (error) {
      throw toOAuthError(error, 'starting the device sign-in');
    }
  }

  /** One poll of the token endpoint: what the answer means for polling, or a final error thrown. */
  async pollDeviceCode(deviceCode: string, requestedScopes: readonly string[], signal?: AbortSignal): Promise<DeviceCodePoll> {
    const action = 'waiting for the device sign-in';
    const as = await this.metadata(signal);
    let response: Response;
    let body: oauth.TokenEndpointResponse;
    try {
      response = await oauth.deviceCodeGrantRequest(as, this.client, this.clientAuthentication(), deviceCode, this.requestOptions(signal));
      if (response.status !== 200) {
        const answer = await readPollError(response, action);
        if (answer.verdict === 'pending') return { status: 'pending' };
        if (answer.verdict === 'slow_down') return { status: 'slow_down', retryAfterSeconds: answer.retryAfterSeconds };
        if (answer.verdict === 'back_off') return { status: 'unavailable', error: answer.error };
        if (answer.verdict === 'final') throw answer.error;
      }
      body = await oauth.processDeviceCodeResponse(as, this.clientAt(response), response);
    } catch (error) {
      const mapped = toOAuthError(error, action);
      if (mapped.reason === 'timeout' || mapped.reason === 'network') return { status: 'unavailable', error: mapped };
      throw mapped;
    }
    try {
      return { status: 'approved', result: await this.signInResult(as, response, body, requestedScopes, signal) };
    } catch (error) {
      // The device code is spent once tokens were issued: polling again would replay it, which makes
      // identity providers revoke the grant. Whatever fails now (keys, ID token) ends the sign-in.
      const mapped = toOAuthError(error, 'completing the device sign-in');
      throw new OAuthError(mapped.reason, mapped.message, { ...mapped.details, grantRedeemed: true });
    }
  }

  /**
   * A refreshed token set; the old refresh token is kept when the response carries none. Once the
   * token endpoint answered 200, its tokens are returned whatever fails afterwards: the identity
   * provider has spent the old refresh token, so the new one may be the only way to stay signed in.
   * A new ID token that fails its checks (keys unreachable, claims wrong) is left out, the previous
   * one kept, and the problem returned for the caller to log; the next refresh checks again.
   */
  async refresh(tokens: TokenSet, signal?: AbortSignal): Promise<RefreshResult> {
    if (!tokens.refreshToken) throw new OAuthError('invalid_grant', 'The session has expired and the identity provider gave no refresh token to renew it.');
    const action = 'refreshing the session';
    const as = await this.metadata(signal);
    const requestedAt = this.clock.now();
    let response: Response;
    try {
      response = await oauth.refreshTokenGrantRequest(as, this.client, this.clientAuthentication(), tokens.refreshToken, this.requestOptions(signal));
    } catch (error) {
      throw toOAuthError(error, action);
    }
    const issued = response.status === 200 ? await issuedTokens(response.clone()) : undefined;
    try {
      const body = await oauth.processRefreshTokenResponse(as, this.clientAt(response), response);
      if (body.id_token) await this.verifySignature(as, response, signal);
      return { tokens: tokenSetFrom(body, tokens.scopes, requestedAt, tokens), subject: oauth.getValidatedIdTokenClaims(body)?.sub };
    } catch (error) {
      const problem = toOAuthError(error, action);
      if (!issued) throw problem;
      return { tokens: tokenSetFrom(issued, tokens.scopes, requestedAt, tokens), idTokenProblem: problem };
    }
  }

  /** RFC 7009. Resolves false when the identity provider offers no revocation endpoint. */
  async revoke(token: string, hint: 'refresh_token' | 'access_token', signal?: AbortSignal): Promise<boolean> {
    if (this.quirks.noRevocation) return false;
    const as = await this.metadata(signal);
    if (!as.revocation_endpoint) return false;
    try {
      const response = await oauth.revocationRequest(as, this.client, this.clientAuthentication(), token, { ...this.requestOptions(signal), additionalParameters: { token_type_hint: hint } });
      await oauth.processRevocationResponse(response);
      return true;
    } catch (error) {
      throw toOAuthError(error, 'revoking the token');
    }
  }

  /**
   * OpenID Connect RP-initiated logout: the URL that ends the user's session at the identity provider
   * itself, or undefined when it offers no end_session_endpoint. The ID token, when there is one,
   * tells the IdP whose session to end without asking.
   */
  async endSessionUrl(idToken: string | undefined, signal?: AbortSignal): Promise<URL | undefined> {
    const as = await this.metadata(signal);
    if (!as.end_session_endpoint) return undefined;
    // It carries the ID token: never to an address a browser would reach in clear or not at all.
    const url = openableUrl(as.end_session_endpoint, 'end_session_endpoint', this.issuer);
    url.searchParams.set('client_id', this.clientId);
    if (idToken) url.searchParams.set('id_token_hint', idToken);
    return url;
  }

  /** The userinfo claims for an access token; `expectedSubject` guards against a mixed-up token. */
  async userinfo(accessToken: string, expectedSubject?: string, signal?: AbortSignal): Promise<oauth.UserInfoResponse> {
    const as = await this.metadata(signal);
    if (!as.userinfo_endpoint) throw new OAuthError('unsupported', `${this.issuer.href} offers no userinfo endpoint.`);
    try {
      const response = await oauth.userInfoRequest(as, this.client, accessToken, this.requestOptions(signal));
      return await oauth.processUserInfoResponse(as, this.client, expectedSubject ?? oauth.skipSubjectCheck, response);
    } catch (error) {
      throw toOAuthError(error, 'reading the account from userinfo');
    }
  }

  /**
   * The client as oauth4webapi should see it for validating this response's ID token: with the
   * offset between this machine's clock and the IdP's (its Date header), so a skewed clock does not
   * make a fresh, short-lived ID token look expired or not yet valid.
   */
  private clientAt(response: Response): oauth.Client {
    const serverTime = Date.parse(response.headers.get('date') ?? '');
    if (Number.isNaN(serverTime)) return this.client;
    return { ...this.client, [oauth.clockSkew]: Math.round((serverTime - Date.now()) / 1000) };
  }

  /**
   * The account behind an access token, from the preset's account endpoint: for providers with
   * neither ID token nor userinfo (GitHub). HTTP 401 means the token is no longer accepted.
   */
  async account(accessToken: string, signal?: AbortSignal): Promise<Identity> {
    const endpoint = this.quirks.accountEndpoint;
    if (!endpoint) throw new OAuthError('unsupported', `${this.issuer.href} has no account endpoint configured.`);
    const where = new URL(endpoint.url);
    const named = `${where.origin}${where.pathname}`;
    const response = await this.fetch(endpoint.url, {
      method: 'GET',
      // GitHub's API refuses requests without a User-Agent.
      headers: { accept: 'application/json', authorization: `Bearer ${accessToken}`, 'user-agent': 'oauth-anywhere' },
      signal,
    });
    if (response.status === 401) {
      throw new OAuthError('session_expired', `The identity provider no longer accepts this session's access token (HTTP 401 from ${named}).`, { status: 401 });
    }
    if (!response.ok) {
      const reason = temporaryStatuses.has(response.status) ? 'idp_unavailable' : 'idp_failed';
      throw new OAuthError(reason, `The identity provider answered HTTP ${response.status} while reading the account from ${named}.`, { status: response.status });
    }
    let body: Record<string, unknown>;
    try {
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      throw new OAuthError('not_json', `The account answer from ${named} is not valid JSON.`);
    }
    const identity = identityFromFields(body, [endpoint.subjectField], endpoint.labelFields);
    if (!identity) throw new OAuthError('protocol_violation', `The account answer from ${named} has no "${endpoint.subjectField}".`);
    return identity;
  }

  /**
   * Asks the identity provider whether it still accepts an access token that an API refused: at the
   * account endpoint, else at userinfo. 'unchecked' when it offers neither. Errors other than a
   * rejection (network, HTTP 5xx) are thrown: they say nothing about the token.
   */
  async checkAccessToken(accessToken: string, signal?: AbortSignal): Promise<TokenCheck> {
    try {
      if (this.quirks.accountEndpoint) {
        await this.account(accessToken, signal);
        return 'valid';
      }
      const as = await this.metadata(signal);
      if (!as.userinfo_endpoint) return 'unchecked';
      await this.userinfo(accessToken, undefined, signal);
      return 'valid';
    } catch (error) {
      if (isOAuthError(error, 'invalid_grant')) return 'rejected';
      throw error;
    }
  }

  private async signInResult(
    as: oauth.AuthorizationServer,
    response: Response,
    body: oauth.TokenEndpointResponse,
    requestedScopes: readonly string[],
    signal?: AbortSignal,
  ): Promise<SignInResult> {
    const receivedAt = this.clock.now();
    // Without it, the account would be named by the answer's unsigned fields. The browser sign-in's
    // nonce check already demands it; every other way to complete a sign-in is held to the same rule.
    if (!body.id_token && this.expectsIdToken(requestedScopes)) {
      throw new OAuthError('protocol_violation', `The identity provider's token answer carries no ID token, although the sign-in asked for openid.`);
    }
    if (body.id_token) await this.verifySignature(as, response, signal);
    const tokens = tokenSetFrom(body, requestedScopes, receivedAt);
    const claims = oauth.getValidatedIdTokenClaims(body);
    return { tokens, identity: await this.identity(claims, body, tokens, signal) };
  }

  /**
   * Who signed in. The ID token names the account; userinfo is asked only when it carries no name,
   * and a userinfo that fails (or answers too much) leaves the ID token's `sub` as the name: the
   * tokens are sound, so the sign-in is. Without an ID token (plain OAuth 2.0): the preset's account
   * endpoint, else what the token answer says about the account, else a placeholder.
   */
  private async identity(claims: oauth.IDToken | undefined, body: oauth.TokenEndpointResponse, tokens: TokenSet, signal?: AbortSignal): Promise<Identity> {
    if (claims) {
      const fromIdToken = identityFromClaims(claims);
      if (fromIdToken.label !== fromIdToken.subject) return fromIdToken;
      return this.nameFromUserinfo(fromIdToken, tokens, signal);
    }
    if (this.quirks.accountEndpoint) {
      try {
        return await this.account(tokens.accessToken, signal);
      } catch (error) {
        if (isOAuthError(error, 'cancelled')) throw error;
        this.logger.warn(`The account could not be read (${errorText(error)}); naming it from the token answer.`);
      }
    }
    const fromAnswer = identityFromTokenAnswer(body);
    if (fromAnswer) return fromAnswer;
    const placeholder = placeholderIdentity(this.issuer);
    this.logger.info(`The identity provider sent no ID token and nothing about the account; it is named "${placeholder.label}".`);
    return placeholder;
  }

  private async nameFromUserinfo(fromIdToken: Identity, tokens: TokenSet, signal?: AbortSignal): Promise<Identity> {
    const as = await this.metadata(signal);
    if (!as.userinfo_endpoint) return fromIdToken;
    try {
      const named = identityFromClaims(await this.userinfo(tokens.accessToken, fromIdToken.subject, signal));
      return { subject: fromIdToken.subject, label: named.label };
    } catch (error) {
      if (isOAuthError(error, 'cancelled')) throw error;
      this.logger.warn(`The ID token names no account and userinfo failed (${errorText(error)}); the account is named by its subject.`);
      return fromIdToken;
    }
  }

  private async verifySignature(as: oauth.AuthorizationServer, response: Response, signal?: AbortSignal): Promise<void> {
    if (!as.jwks_uri) throw new OAuthError('metadata_incomplete', `${this.issuer.href} publishes no jwks_uri, so the ID token's signature cannot be checked; oauthAnywhere.endpoints.jwks_uri is not set either.`);
    await oauth.validateApplicationLevelSignature(as, response, { ...this.requestOptions(signal), [oauth.jwksCache]: this.jwks });
  }

  private async discover(): Promise<oauth.AuthorizationServer> {
    const overrides = definedEndpoints(this.config.endpoints);
    if (overrides[manualEndpointsMark] && (overrides.authorization_endpoint || overrides.device_authorization_endpoint)) {
      this.logger.info(`Using the configured endpoints for ${this.issuer.href}; discovery skipped.`);
      // As typed: the ID token's `iss` is compared with it character for character.
      return { issuer: this.config.issuer.trim(), ...overrides };
    }
    const discovered = await this.discoverWith('oidc').catch(async (error: unknown) => {
      if (!isOAuthError(error) || error.details.status !== 404) throw error;
      this.logger.info(`No OpenID Connect discovery at ${this.issuer.href}; trying OAuth 2.0 authorization server metadata.`);
      return this.discoverWith('oauth2');
    });
    // What the identity provider sent; the endpoints set in the settings were checked as settings.
    for (const name of ['authorization_endpoint', 'token_endpoint', 'device_authorization_endpoint', 'revocation_endpoint', 'userinfo_endpoint', 'jwks_uri'] as const) {
      const value = discovered[name];
      if (typeof value === 'string' && !overrides[name]) openableUrl(value, `${name} in the discovery document`, this.issuer);
    }
    return { ...discovered, ...overrides };
  }

  private async discoverWith(algorithm: 'oidc' | 'oauth2'): Promise<oauth.AuthorizationServer> {
    const action = `reading the ${algorithm === 'oidc' ? 'OpenID Connect discovery document' : 'OAuth 2.0 metadata'} of ${this.issuer.href}`;
    try {
      const response = await oauth.discoveryRequest(this.issuer, { ...this.requestOptions(), algorithm });
      return await oauth.processDiscoveryResponse(this.issuer, response);
    } catch (error) {
      const mapped = toOAuthError(error, action);
      if (mapped.details.status === 404) {
        throw new OAuthError('metadata_incomplete', `${this.issuer.href} has no discovery document (HTTP 404), and oauthAnywhere.endpoints does not name the endpoints instead.`, { status: 404 });
      }
      throw mapped;
    }
  }
}

/**
 * The tokens in a 200 answer of the token endpoint, read before any check can fail (without the ID
 * token, which is only trusted once checked); undefined when the answer carries no access token.
 */
async function issuedTokens(response: Response): Promise<oauth.TokenEndpointResponse | undefined> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { access_token, token_type, expires_in, refresh_token, scope } = body as Record<string, unknown>;
  if (typeof access_token !== 'string' || !access_token) return undefined;
  const seconds = typeof expires_in === 'string' ? Number(expires_in) : expires_in;
  return {
    access_token,
    token_type: typeof token_type === 'string' ? (token_type.toLowerCase() as Lowercase<string>) : 'bearer',
    ...(typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? { expires_in: seconds } : {}),
    ...(typeof refresh_token === 'string' && refresh_token ? { refresh_token } : {}),
    ...(typeof scope === 'string' ? { scope } : {}),
  };
}

function definedEndpoints(endpoints: EndpointOverrides | undefined): EndpointOverrides {
  return Object.fromEntries(Object.entries(endpoints ?? {}).filter(([, value]) => typeof value === 'string' && value.trim()));
}

/** A shared promise one caller can stop waiting for without cancelling it for the others. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new OAuthError('cancelled', 'Sign-in was cancelled.'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new OAuthError('cancelled', 'Sign-in was cancelled.'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

