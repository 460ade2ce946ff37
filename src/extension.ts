import * as path from 'node:path';
import * as vscode from 'vscode';
import { SessionManager } from './auth/sessionManager.js';
import type { SecretStoragePort } from './auth/sessionStore.js';
import { defaultLabel, defaultScopes, readSettings, settingsSection } from './config.js';
import { loadCallbackPages, type CallbackPages } from './oauth/callbackPages.js';
import { OAuthClient } from './oauth/client.js';
import { registerCommands } from './vscode/commands.js';
import { readEnvironment } from './vscode/environment.js';
import { createLog } from './vscode/log.js';
import { PromptActions } from './vscode/prompts.js';
import { OAuthAnywhereProvider, type ManagerFactory } from './vscode/provider.js';
import { createSignInRunner } from './vscode/signIn.js';

export const providerId = 'oauth-anywhere';

/**
 * Registers the provider before anything else and awaits nothing: VS Code gives an activated
 * extension only a few seconds to register before a waiting getSession fails. No network request and
 * no storage read happen here; the first getSessions reads storage once.
 */
export function activate(context: vscode.ExtensionContext): void {
  const activateStarted = performance.now();
  const secrets = new CountingSecrets(context.secrets);
  const { channel, logger, redactor } = createLog();
  const prompts = new PromptActions();
  const settingsReader = () => vscode.workspace.getConfiguration(settingsSection);
  let pages: CallbackPages | undefined;

  const createManager: ManagerFactory = () => {
    const result = readSettings((key) => settingsReader().get(key));
    if (!result.ok) return { problems: result.problems };
    const { settings } = result;
    const client = new OAuthClient(settings.provider, { logger });
    pages ??= loadCallbackPages(path.join(context.extensionPath, 'media'));
    const signIn = createSignInRunner({ client, settings, environment: readEnvironment(context), pages, prompts, logger });
    return { manager: new SessionManager({ providerId, client, configuredScopes: settings.provider.scopes, secrets, signIn, logger, redactor }) };
  };

  const provider = new OAuthAnywhereProvider(createManager, logger);
  const offerSignIn = signInOffer(settingsReader, logger);
  const label = settingsReader().get<string>('label')?.trim() || defaultLabel;
  const registration = vscode.authentication.registerAuthenticationProvider(providerId, label, provider, { supportsMultipleAccounts: true });
  const registeredMs = performance.now() - activateStarted;
  context.subscriptions.push(
    registration,
    provider,
    channel,
    prompts.register(),
    registerCommands(provider, channel, () => settingsReader().get<string[]>('scopes') ?? defaultScopes),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(settingsSection)) void provider.reconfigure().then(offerSignIn);
    }),
    vscode.authentication.onDidChangeSessions((event) => {
      if (event.provider.id === providerId) offerSignIn();
    }),
  );
  setTimeout(offerSignIn, 0);
  logger.info(`OAuth Anywhere ${context.extension.packageJSON.version as string} activated (${vscode.env.remoteName ?? 'local'}, ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'} UI).`);
  // Read by the end-to-end tier for the activation figures; reads counted up to here, when activate() returns.
  logger.info(`Provider registered ${registeredMs.toFixed(2)} ms after activate(); ${secrets.reads} SecretStorage reads during activation.`);
}

export function deactivate(): void {}

/** SecretStorage as the session store sees it, counting reads (for the activation figures in the log). */
class CountingSecrets implements SecretStoragePort {
  reads = 0;
  constructor(private readonly secrets: vscode.SecretStorage) {}
  get(key: string): Thenable<string | undefined> {
    this.reads++;
    return this.secrets.get(key);
  }
  store(key: string, value: string): Thenable<void> {
    return this.secrets.store(key, value);
  }
  delete(key: string): Thenable<void> {
    return this.secrets.delete(key);
  }
  onDidChange(listener: (event: { key: string }) => unknown): vscode.Disposable {
    return this.secrets.onDidChange(listener);
  }
}

/**
 * Puts "Sign in with OAuth Anywhere" in the Accounts menu once a provider is configured, even when no
 * other extension has asked for a session yet. VS Code drops that entry once the request is served,
 * so it is asked for again after every session change (a sign-out) and settings change. Deferred at
 * activation, so activation itself still does no I/O.
 */
function signInOffer(settings: () => vscode.WorkspaceConfiguration, logger: { warn(message: string): void }): () => void {
  return () => {
    const result = readSettings((key) => settings().get(key));
    if (!result.ok) return;
    vscode.authentication.getSession(providerId, result.settings.provider.scopes, { createIfNone: false }).then(undefined, (error: unknown) => {
      logger.warn(`Could not check for an existing session: ${error instanceof Error ? error.message : String(error)}`);
    });
  };
}
