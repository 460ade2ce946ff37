import * as vscode from 'vscode';
import { SessionManager } from '../auth/sessionManager.js';
import { readProviderDefinitions, readSettings, settingsSection, type ProviderDefinition } from '../config.js';
import { LazyOAuthClient } from './lazyClient.js';
import { OAuthAnywhereProvider } from './provider.js';
import type { ExtensionServices } from './services.js';
import { createSignInRunner } from './signIn.js';

interface Registered {
  definition: ProviderDefinition;
  /** The settings as last applied, to tell a real change from an unrelated one. */
  fingerprint: string;
  provider: OAuthAnywhereProvider;
  registration: vscode.Disposable;
}

/**
 * The registered authentication providers: `oauth-anywhere` and one per entry of
 * `oauthAnywhere.providers`, kept in step with the settings without a reload.
 */
export class ProviderRegistry implements vscode.Disposable {
  private readonly registered = new Map<string, Registered>();

  constructor(private readonly services: ExtensionServices) {}

  /** Registers, re-registers and unregisters providers to match the settings. */
  sync(): void {
    const { definitions, problems } = readProviderDefinitions((key) => settings().get(key));
    for (const problem of problems) this.services.logger.warn(`${problem.setting}: ${problem.message}`);
    const wanted = new Set(definitions.map((definition) => definition.id));
    for (const [id, entry] of this.registered) {
      if (!wanted.has(id)) this.unregister(id, entry);
    }
    for (const definition of definitions) {
      const current = this.registered.get(definition.id);
      const fingerprint = fingerprintOf(definition);
      if (!current) this.register(definition, fingerprint);
      else if (current.definition.label !== definition.label) {
        // The label is fixed at registration.
        this.unregister(definition.id, current);
        this.register(definition, fingerprint);
      } else if (current.fingerprint !== fingerprint) {
        current.definition = definition;
        current.fingerprint = fingerprint;
        current.provider
          .reconfigure()
          .then(() => this.offerSignIn(current))
          .catch((error: unknown) => this.services.logger.error(`${definition.label}: the new settings could not be applied: ${error instanceof Error ? error.message : String(error)}`));
      } else {
        // Settings that need no new session manager (an entry's gitHosts) are read from here too.
        current.definition = definition;
      }
    }
  }

  all(): OAuthAnywhereProvider[] {
    return [...this.registered.values()].map((entry) => entry.provider);
  }

  /** Each provider with the definition it was registered from (its settings), in registration order. */
  entries(): Array<{ definition: ProviderDefinition; provider: OAuthAnywhereProvider }> {
    return [...this.registered.values()].map(({ definition, provider }) => ({ definition, provider }));
  }

  get(id: string): OAuthAnywhereProvider | undefined {
    return this.registered.get(id)?.provider;
  }

  /** The scopes a sign-in from our own commands asks for: the provider's configured ones. */
  configuredScopes(id: string): readonly string[] {
    const entry = this.registered.get(id);
    const result = entry && readSettings(entry.definition.read);
    return result?.ok ? result.settings.provider.scopes : [];
  }

  /** Puts "Sign in with …" back in the Accounts menu (VS Code drops it once it was used). */
  offerSignInEverywhere(): void {
    for (const entry of this.registered.values()) this.offerSignIn(entry);
  }

  offerSignInFor(id: string): void {
    const entry = this.registered.get(id);
    if (entry) this.offerSignIn(entry);
  }

  dispose(): void {
    for (const [id, entry] of this.registered) this.unregister(id, entry);
  }

  private register(definition: ProviderDefinition, fingerprint: string): void {
    const { logger, recentErrors } = this.services;
    const entry = { definition, fingerprint } as Registered;
    entry.provider = new OAuthAnywhereProvider(definition.id, definition.label, () => this.createManager(entry.definition), logger, recentErrors);
    entry.registration = vscode.authentication.registerAuthenticationProvider(definition.id, definition.label, entry.provider, { supportsMultipleAccounts: true });
    this.registered.set(definition.id, entry);
    logger.debug(`Registered the authentication provider "${definition.id}" (${definition.label}).`);
  }

  private unregister(id: string, entry: Registered): void {
    entry.registration.dispose();
    entry.provider.dispose();
    this.registered.delete(id);
  }

  private createManager(definition: ProviderDefinition) {
    const result = readSettings(definition.read);
    if (!result.ok) return { problems: result.problems };
    const { settings } = result;
    const { logger, redactor, secrets, prompts, environment, coordination, recentErrors } = this.services;
    redactor.remember(settings.provider.clientSecret);
    const client = new LazyOAuthClient(settings.provider, { logger });
    const signIn = createSignInRunner({ client, settings, environment, pages: () => this.services.pages(), prompts, logger, browserCheckSeconds: definition.read('browserCheckSeconds') });
    return {
      manager: new SessionManager({
        providerId: definition.id,
        client,
        configuredScopes: settings.provider.scopes,
        secrets,
        signIn,
        logger,
        redactor,
        coordination,
        onRefreshProblem: (account, error) => recentErrors.add(definition.label, `refreshing ${account}: ${error instanceof Error ? error.message : String(error)}`),
      }),
      signOutAtIdentityProvider: definition.read('signOutAtIdentityProvider') === true,
    };
  }

  /**
   * Asks VS Code for a session on this extension's own behalf, which puts "Sign in with …" in the
   * Accounts menu, only while nobody is signed in: once an account is there, the same request would
   * leave a "Grant access to OAuth Anywhere for OAuth Anywhere" entry and a badge behind.
   */
  private offerSignIn(entry: Registered): void {
    const result = readSettings(entry.definition.read);
    if (!result.ok) return;
    const warn = (error: unknown) => this.services.logger.warn(`Could not check for an existing ${entry.definition.label} session: ${error instanceof Error ? error.message : String(error)}`);
    entry.provider.listSessions().then((sessions) => {
      if (sessions.length) return;
      vscode.authentication.getSession(entry.definition.id, result.settings.provider.scopes, { createIfNone: false }).then(undefined, warn);
    }, warn);
  }
}

function settings(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(settingsSection);
}

function fingerprintOf(definition: ProviderDefinition): string {
  return JSON.stringify([readSettings(definition.read), definition.read('signOutAtIdentityProvider') === true]);
}
