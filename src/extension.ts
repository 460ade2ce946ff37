import * as path from 'node:path';
import * as vscode from 'vscode';
import { MachineCoordination } from './auth/coordination.js';
import type { SecretStoragePort } from './auth/sessionStore.js';
import { settingsSection } from './config.js';
import { loadCallbackPages, type CallbackPages } from './oauth/callbackPages.js';
import { registerCommands } from './vscode/commands.js';
import { registerConfigureCommand } from './vscode/configureCommand.js';
import { extensionVersion, readEnvironment } from './vscode/environment.js';
import { createLog } from './vscode/log.js';
import { PromptActions } from './vscode/prompts.js';
import { ProviderRegistry } from './vscode/providerRegistry.js';
import { registerQrCodePanel } from './vscode/qrCodePanel.js';
import { RecentErrors, type ExtensionServices } from './vscode/services.js';
import { registerTerminalAccess } from './vscode/terminalAccess.js';
import { registerTroubleshootCommand } from './vscode/troubleshootCommand.js';

/**
 * Registers the providers before anything else and awaits nothing: VS Code gives an activated
 * extension only a few seconds to register before a waiting getSession fails. No network request and
 * no storage read happen here; each provider's first getSessions reads storage once.
 */
export function activate(context: vscode.ExtensionContext): void {
  const activateStarted = performance.now();
  const secrets = new CountingSecrets(context.secrets);
  const { channel, logger, redactor } = createLog();
  const prompts = new PromptActions();
  // No I/O here: the runtime directory and this window's socket are set up on first use.
  const coordination = new MachineCoordination(logger);
  let pages: CallbackPages | undefined;
  const services: ExtensionServices = {
    context,
    channel,
    logger,
    redactor,
    prompts,
    secrets,
    coordination,
    environment: readEnvironment(context),
    recentErrors: new RecentErrors(),
    pages: () => (pages ??= loadCallbackPages(path.join(context.extensionPath, 'media'))),
  };

  const registry = new ProviderRegistry(services);
  registry.sync();
  const registeredMs = performance.now() - activateStarted;
  context.subscriptions.push(
    registry,
    coordination,
    channel,
    prompts.register(),
    registerCommands(registry, channel),
    registerTroubleshootCommand(services),
    registerConfigureCommand(services),
    registerQrCodePanel(services),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!event.affectsConfiguration(settingsSection)) return;
      registry.sync();
      registry.offerSignInEverywhere();
    }),
    vscode.authentication.onDidChangeSessions((event) => registry.offerSignInFor(event.provider.id)),
  );
  // After the registry's listener: on a settings change the providers are synced before the terminals see them.
  context.subscriptions.push(registerTerminalAccess(services, registry));
  // "Sign in with …" in the Accounts menu without any consumer; deferred so activation does no I/O.
  setTimeout(() => registry.offerSignInEverywhere(), 0);
  logger.info(`OAuth Anywhere ${extensionVersion(context)} activated (${vscode.env.remoteName ?? 'local'}, ${vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop'} UI).`);
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
  keys(): Thenable<string[]> {
    this.reads++;
    return this.secrets.keys();
  }
  onDidChange(listener: (event: { key: string }) => unknown): vscode.Disposable {
    return this.secrets.onDidChange(listener);
  }
}
