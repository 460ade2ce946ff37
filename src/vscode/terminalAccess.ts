import { constants } from 'node:fs';
import { access, chmod } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ensureRuntimeDirectory, openRuntimeDirectory, runtimeDirectoryPath } from '../auth/runtimeDirectory.js';
import { settingsSection } from '../config.js';
import { TerminalBroker, terminalAccess, type Access } from '../terminal/broker.js';
import { ConsentKeeper } from '../terminal/consent.js';
import { openTerminalEndpoint, planEndpoint, removeStaleSockets, type EndpointPlan, type TerminalEndpoint } from '../terminal/endpoint.js';
import { credentialHelperCommand, credentialHelperEntries, gitConfigVariables } from '../terminal/gitEnvironment.js';
import { endpointVariable, nodeVariable, secretVariable } from '../terminal/protocol.js';
import { showLogCommand } from './notifications.js';
import type { ProviderRegistry } from './providerRegistry.js';
import type { ExtensionServices } from './services.js';
import { registerTerminalCommands } from './terminalCommands.js';
import { alwaysAllowedStore, askTerminalConsent } from './terminalConsent.js';
import { gitHostProblems, terminalProviders } from './terminalProviders.js';

export const terminalEnabledSetting = 'terminal.enabled';

/** Terminal access for this window, kept in line with the settings and workspace trust, and its commands. */
export function registerTerminalAccess(services: ExtensionServices, registry: ProviderRegistry): vscode.Disposable {
  const terminals = new TerminalAccess(services, registry);
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
 * workspace is trusted, a per-window endpoint listens and every new terminal gets `oauth-anywhere`
 * on its PATH, the endpoint and its secret, and git's credential helper for the configured hosts
 * (GIT_CONFIG_* variables: only these terminals, never the user's git config).
 */
export class TerminalAccess implements vscode.Disposable {
  readonly consent: ConsentKeeper;
  private readonly broker: TerminalBroker;
  private readonly binDirectory: string;
  private plan: EndpointPlan | undefined;
  private endpoint: Promise<TerminalEndpoint | undefined> | undefined;
  private lastEnvironment = '';

  constructor(
    private readonly services: ExtensionServices,
    private readonly registry: ProviderRegistry,
  ) {
    this.binDirectory = path.join(services.context.extensionPath, 'bin');
    this.consent = new ConsentKeeper(askTerminalConsent, alwaysAllowedStore(services.context.globalState));
    this.broker = new TerminalBroker({ providers: () => terminalProviders(registry), consent: this.consent, access: () => this.access(), logger: services.logger });
  }

  access(): Access {
    return terminalAccess(vscode.workspace.getConfiguration(settingsSection).get<unknown>(terminalEnabledSetting), vscode.workspace.isTrusted);
  }

  /**
   * Brings the terminal environment and the endpoint in line with the settings and trust. The
   * environment is set at once (the endpoint's path and secret are chosen before it listens), so
   * terminals opened right after activation already have it; the listening happens in the background.
   */
  apply(): void {
    const collection = this.services.context.environmentVariableCollection;
    if (!this.access().allowed) {
      collection.clear();
      this.lastEnvironment = '';
      this.stopInBackground();
      return;
    }
    if (!this.plan) {
      const plan = planEndpoint(usableRuntimeDirectory());
      this.plan = plan;
      // Listening touches the file system: not during activation itself.
      this.endpoint = new Promise((resolve) => setTimeout(resolve, 0)).then(() => (this.plan === plan ? this.start(plan) : undefined));
    }
    this.writeEnvironment(this.plan);
  }

  dispose(): void {
    this.stopInBackground();
  }

  private stopInBackground(): void {
    this.stop().catch((error: unknown) => this.services.logger.warn(`The terminal endpoint did not close cleanly: ${error instanceof Error ? error.message : String(error)}`));
  }

  private async start(plan: EndpointPlan): Promise<TerminalEndpoint | undefined> {
    const { logger } = this.services;
    try {
      await this.ensureCommandIsExecutable();
      // A named pipe on Windows lives in no directory; a socket file in the checked per-user one.
      const directory = process.platform === 'win32' ? undefined : await ensureRuntimeDirectory(path.dirname(plan.path));
      const removed = directory ? await removeStaleSockets(directory) : [];
      if (removed.length) logger.info(`Terminal: removed ${removed.length} socket(s) of VS Code windows that are gone.`);
      const endpoint = await openTerminalEndpoint(plan, (request, context) => this.broker.handle(request, context), logger);
      logger.info(`Terminal tools can ask this window for tokens (endpoint in ${directory ?? 'a named pipe'}).`);
      if (this.plan !== plan) await endpoint.close(); // turned off meanwhile
      return endpoint;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.error(`Terminal tools cannot get tokens from this window: ${message}`);
      if (this.plan === plan) {
        this.plan = undefined;
        this.services.context.environmentVariableCollection.clear();
        this.lastEnvironment = '';
      }
      const showLog = vscode.l10n.t('Show Log');
      void vscode.window.showWarningMessage(vscode.l10n.t('OAuth Anywhere cannot serve tokens to terminal tools in this window: {0}', message), showLog).then((picked) => {
        if (picked === showLog) void vscode.commands.executeCommand(showLogCommand);
      });
      return undefined;
    }
  }

  private async stop(): Promise<void> {
    const endpoint = this.endpoint;
    this.plan = undefined;
    this.endpoint = undefined;
    await (await endpoint)?.close();
  }

  private writeEnvironment(plan: EndpointPlan): void {
    const { context, logger } = this.services;
    const origins = [...new Set(terminalProviders(this.registry).flatMap((provider) => provider.gitHosts.map((host) => host.origin)))];
    const helper = credentialHelperCommand(process.execPath, path.join(context.extensionPath, 'dist', 'cli.js'));
    const git = gitConfigVariables(process.env, credentialHelperEntries(origins, helper));
    const replaced: Record<string, string> = { [endpointVariable]: plan.path, [secretVariable]: plan.secret, [nodeVariable]: process.execPath, ...git.variables };
    const fingerprint = JSON.stringify([this.binDirectory, replaced]);
    if (fingerprint === this.lastEnvironment) return;
    this.lastEnvironment = fingerprint;
    for (const problem of gitHostProblems(this.registry)) logger.warn(problem);
    if (git.problem) logger.warn(git.problem);

    const collection = context.environmentVariableCollection;
    // The endpoint and its secret live as long as this window: nothing to restore after a restart.
    collection.persistent = false;
    collection.description = vscode.l10n.t('Lets oauth-anywhere, git and kubectl in this terminal use your OAuth Anywhere sign-in.');
    collection.clear();
    collection.prepend('PATH', `${this.binDirectory}${path.delimiter}`);
    for (const [name, value] of Object.entries(replaced)) collection.replace(name, value);
    logger.info(`Terminal: new terminals get oauth-anywhere${origins.length ? ` and git credentials for ${origins.join(', ')}` : ''}.`);
  }

  /** A VSIX unpacked by a tool that drops file modes would leave the command unrunnable. */
  private async ensureCommandIsExecutable(): Promise<void> {
    if (process.platform === 'win32') return;
    const command = path.join(this.binDirectory, 'oauth-anywhere');
    try {
      await access(command, constants.X_OK);
    } catch {
      await chmod(command, 0o755);
      this.services.logger.info(`Made ${command} executable (the installation had dropped its mode).`);
    }
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
