import * as path from 'node:path';
import * as vscode from 'vscode';
import { SessionManager } from './auth/sessionManager.js';
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
    return { manager: new SessionManager({ providerId, client, configuredScopes: settings.provider.scopes, secrets: context.secrets, signIn, logger, redactor }) };
  };

  const provider = new OAuthAnywhereProvider(createManager, logger);
  const label = settingsReader().get<string>('label')?.trim() || defaultLabel;
  context.subscriptions.push(
    vscode.authentication.registerAuthenticationProvider(providerId, label, provider, { supportsMultipleAccounts: true }),
    provider,
    channel,
    prompts.register(),
    registerCommands(provider, channel, () => settingsReader().get<string[]>('scopes') ?? defaultScopes),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(settingsSection)) void provider.reconfigure();
    }),
  );
  offerSignInWhenConfigured(settingsReader, logger);
  logger.info(`OAuth Anywhere ${context.extension.packageJSON.version as string} activated (${vscode.env.remoteName ?? 'local'}, ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'} UI).`);
}

export function deactivate(): void {}

/**
 * Puts "Sign in with OAuth Anywhere" in the Accounts menu once a provider is configured, even when no
 * other extension has asked for a session yet. Deferred, so activation itself still does no I/O.
 */
function offerSignInWhenConfigured(settings: () => vscode.WorkspaceConfiguration, logger: { warn(message: string): void }): void {
  const result = readSettings((key) => settings().get(key));
  if (!result.ok) return;
  setTimeout(() => {
    vscode.authentication.getSession(providerId, result.settings.provider.scopes, { createIfNone: false }).then(undefined, (error: unknown) => {
      logger.warn(`Could not check for an existing session: ${error instanceof Error ? error.message : String(error)}`);
    });
  }, 0);
}
