import type { SessionClient } from '../auth/sessionManager.js';
import { OAuthClient, type OAuthClientOptions } from '../oauth/client.js';
import { parseIssuer } from '../oauth/endpointUrls.js';
import type { ProviderConfig } from '../oauth/types.js';

/**
 * An OAuthClient built only when a request is really needed: registering a provider and serving
 * stored, valid sessions (the common case after a window opens) never build one, and a setting
 * OAuthClient refuses fails the request that needs it, with its message, not the registration.
 */
export class LazyOAuthClient implements SessionClient {
  readonly issuer: URL;
  readonly clientId: string;
  private client: Promise<OAuthClient> | undefined;

  constructor(
    private readonly config: ProviderConfig,
    private readonly options: OAuthClientOptions,
  ) {
    // The same values OAuthClient derives, without building it.
    this.issuer = parseIssuer(config.issuer);
    this.clientId = config.clientId.trim();
  }

  load(): Promise<OAuthClient> {
    this.client ??= new Promise((resolve) => resolve(new OAuthClient(this.config, this.options)));
    return this.client;
  }

  async refresh(...args: Parameters<OAuthClient['refresh']>) {
    return (await this.load()).refresh(...args);
  }

  async revoke(...args: Parameters<OAuthClient['revoke']>) {
    return (await this.load()).revoke(...args);
  }

  async checkAccessToken(...args: Parameters<OAuthClient['checkAccessToken']>) {
    return (await this.load()).checkAccessToken(...args);
  }

  async endSessionUrl(...args: Parameters<OAuthClient['endSessionUrl']>) {
    return (await this.load()).endSessionUrl(...args);
  }
}
