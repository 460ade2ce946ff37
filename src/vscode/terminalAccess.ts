import * as path from 'node:path';
import * as vscode from 'vscode';
import { openRuntimeDirectory, runtimeDirectoryPath } from '../auth/runtimeDirectory.js';
import { settingsSection } from '../config.js';
import { TerminalBroker, terminalAccess, type Access } from '../terminal/broker.js';
import { ConsentKeeper } from '../terminal/consent.js';
import { forgetInheritedTerminalVariables, WindowTerminals, type TerminalVariables } from '../terminal/windowTerminals.js';
import { showLogCommand } from './notifications.js';
import type { ProviderRegistry } from './providerRegistry.js';
import type { ExtensionServices } from './services.js';
import { registerTerminalCommands } from './terminalCommands.js';
import { alwaysAllowedStore, askTerminalConsent } from './terminalConsent.js';
import { gitHostProblems, terminalProviders } from './terminalProviders.js';
import { inBackground } from './inBackground.js';
import { errorText } from '../oauth/errors.js';

export const terminalEnabledSetting = 'terminal.enabled';

/** Terminal access for this window, kept in line with the settings and workspace trust, and its commands. */
export function registerTerminalAccess(services: ExtensionServices, registry: ProviderRegistry): vscode.Disposable {
  // Before anything else reads it: what this window inherited from another one is not its own.
  const inherited = { ...process.env };
  forgetInheritedTerminalVariables(process.env);
  const terminals = new TerminalAccess(services, registry, inherited);
  terminals.apply();
  return vscode.Disposable.from(
    terminals,
    registerTerminalCommands(registry, terminals.consent),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(settingsSection)) terminals.apply();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => terminals.apply()),
  );
}

/**
 * The window's sessions for tools in its integrated terminals: while the setting is on and the
 * workspace is trusted, every new terminal gets `oauth-anywhere` on its PATH, the window's endpoint
 * and its secret, and git's credential helper for the configured hosts (GIT_CONFIG_* variables:
 * only these terminals, never the user's git config). Otherwise new terminals get those variables
 * emptied. The endpoint itself is the core's WindowTerminals.
 */
export class TerminalAccess implements vscode.Disposable {
  readonly consent: ConsentKeeper;
  private readonly terminals: WindowTerminals;
  private lastEnvironment = '';

  constructor(
    private readonly services: ExtensionServices,
    private readonly registry: ProviderRegistry,
    inherited: NodeJS.ProcessEnv,
  ) {
    this.consent = new ConsentKeeper(askTerminalConsent, alwaysAllowedStore(services.context.globalState));
    const broker = new TerminalBroker({ providers: () => terminalProviders(registry), consent: this.consent, access: () => this.access(), logger: services.logger });
    this.terminals = new WindowTerminals({
      runtimeDirectory: usableRuntimeDirectory,
      handle: (request, context) => broker.handle(request, context),
      logger: services.logger,
      inherited,
      node: process.execPath,
      extensionPath: services.context.extensionPath,
      onFailure: (message) => this.failed(message),
    });
  }

  access(): Access {
    return terminalAccess(vscode.workspace.getConfiguration(settingsSection).get<unknown>(terminalEnabledSetting), vscode.workspace.isTrusted);
  }

  /** Brings the environment of new terminals in line with the settings and trust (starting the endpoint when first allowed). */
  apply(): void {
    this.writeEnvironment(this.terminals.variables(this.access().allowed, this.gitOrigins()));
  }

  dispose(): void {
    this.terminals.close().catch((error: unknown) => this.services.logger.warn(`The terminal endpoint did not close cleanly: ${errorText(error)}`));
  }

  private failed(message: string): void {
    this.writeEnvironment(this.terminals.variables(false, this.gitOrigins()));
    const showLog = vscode.l10n.t('Show Log');
    inBackground(
      vscode.window.showWarningMessage(vscode.l10n.t('OAuth Anywhere cannot serve tokens to terminal tools in this window: {0}', message), showLog).then((picked) =>
        picked === showLog ? vscode.commands.executeCommand(showLogCommand) : undefined,
      ),
    );
  }

  private gitOrigins(): string[] {
    return [...new Set(terminalProviders(this.registry).flatMap((provider) => provider.gitHosts.flatMap((host) => host.configOrigins)))];
  }

  private writeEnvironment(variables: TerminalVariables): void {
    const { context, logger } = this.services;
    const fingerprint = JSON.stringify(variables);
    if (fingerprint === this.lastEnvironment) return;
    this.lastEnvironment = fingerprint;
    if (variables.problem) logger.warn(variables.problem);
    const collection = context.environmentVariableCollection;
    // The endpoint and its secret live as long as this window: nothing to restore after a restart.
    collection.persistent = false;
    collection.description = variables.prependPath
      ? vscode.l10n.t('Lets oauth-anywhere, git and kubectl in this terminal use your OAuth Anywhere sign-in.')
      : vscode.l10n.t('Keeps the OAuth Anywhere access of other VS Code windows out of this terminal (terminal access is off here).');
    collection.clear();
    if (variables.prependPath) collection.prepend('PATH', `${variables.prependPath}${path.delimiter}`);
    for (const [name, value] of Object.entries(variables.replace)) collection.replace(name, value);
    if (!variables.prependPath) {
      logger.info('Terminal: new terminals get no token access from this window.');
      return;
    }
    for (const problem of gitHostProblems(this.registry)) logger.warn(problem);
    const origins = this.gitOrigins();
    logger.info(`Terminal: new terminals get oauth-anywhere${origins.length ? ` and git credentials for ${origins.join(', ')}` : ''}.`);
  }
}

/** The runtime directory the machine's windows use; when none is usable, the first choice (starting there then says why). */
function usableRuntimeDirectory(): string {
  try {
    return openRuntimeDirectory();
  } catch {
    return runtimeDirectoryPath();
  }
}
