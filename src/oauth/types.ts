/** Plain values the OAuth core takes and returns; nothing here knows about VS Code. */
import type { Quirks } from './quirks.js';

export interface EndpointOverrides {
  authorization_endpoint?: string;
  token_endpoint?: string;
  device_authorization_endpoint?: string;
  revocation_endpoint?: string;
  userinfo_endpoint?: string;
  jwks_uri?: string;
}

export interface ProviderConfig {
  issuer: string;
  clientId: string;
  /** Scopes asked for on every sign-in, merged with the caller's. */
  scopes: readonly string[];
  endpoints?: EndpointOverrides;
  /**
   * Only for providers that insist on one even for native apps (Google; GitHub's web flow), where
   * the provider itself says the secret is not confidential. Sent as client_secret_post to the
   * token and revocation endpoints. Without it the client is public (`none`).
   */
  clientSecret?: string;
  /** The provider's deviations from the standards, set by a preset; none means the strict path. */
  quirks?: Quirks;
}

export interface TokenSet {
  accessToken: string;
  tokenType: string;
  /** Epoch ms, computed from `expires_in` at receipt so the IdP's clock never matters. */
  expiresAt?: number;
  /** Epoch ms when the request that returned these tokens was sent (our clock). */
  obtainedAt: number;
  refreshToken?: string;
  idToken?: string;
  /** Granted scopes: the response's `scope`, else what was asked for (RFC 6749 5.1). */
  scopes: string[];
}

export interface Identity {
  /** The ID token's or userinfo's `sub`. */
  subject: string;
  /** preferred_username, else email, else name, else sub. */
  label: string;
}

export interface SignInResult {
  tokens: TokenSet;
  identity: Identity;
}

export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Injected so tests drive time instead of waiting for it. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}
