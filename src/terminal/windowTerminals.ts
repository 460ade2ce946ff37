import { constants } from 'node:fs';
import { access, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ensureRuntimeDirectory } from '../auth/runtimeDirectory.js';
import type { Logger } from '../oauth/types.js';
import { openTerminalEndpoint, planEndpoint, removeStaleSockets, type EndpointPlan, type RequestHandler, type TerminalEndpoint } from './endpoint.js';
import { credentialHelperCommand, credentialHelperEntries, gitConfigVariables, type Environment } from './gitEnvironment.js';
import { endpointVariable, nodeVariable, secretVariable } from './protocol.js';
import { errorText } from '../oauth/errors.js';

/** The variables a window puts in its terminals' environment. */
export const windowVariables = [endpointVariable, secretVariable, nodeVariable] as const;

/** What new terminals of a window get: variables to replace, and a folder to put first on PATH. */
export interface TerminalVariables {
  replace: Record<string, string>;
  prependPath?: string;
  /** Why git could not be set up (for the log). */
  problem?: string;
}

/** A window that serves its terminals: where its endpoint is, and what the command needs. */
export interface ServingWindow {
  endpoint: EndpointPlan;
  /** The Node that runs the extension host, which runs the command too. */
  node: string;
  /** The installed extension: bin/oauth-anywhere and dist/cli.js. */
  extensionPath: string;
  /** `credential.<url>` origins of the configured git hosts. */
  gitOrigins: readonly string[];
}

/**
 * The terminal environment of a window. One that serves its terminals: the endpoint, its secret,
 * the Node for the command, the command on PATH, git's helper for the configured hosts. One that
 * does not (setting off, untrusted workspace, no endpoint): its window variables set to '' — a
 * window opened from another window's terminal (`code .`) inherits that window's variables, and
 * its terminals must not reach the other window; the command reads '' as "terminal access is off
 * in this window". Either way, git entries of ours inherited from another window are dropped.
 */
export function terminalVariables(inherited: Environment, window: ServingWindow | undefined): TerminalVariables {
  const helper = window && credentialHelperCommand(window.node, join(window.extensionPath, 'dist', 'cli.js'));
  const git = gitConfigVariables(inherited, helper ? credentialHelperEntries(window.gitOrigins, helper) : []);
  const own = window ? { [endpointVariable]: window.endpoint.path, [secretVariable]: window.endpoint.secret, [nodeVariable]: window.node } : Object.fromEntries(windowVariables.map((name) => [name, '']));
  return {
    replace: { ...own, ...git.variables },
    ...(window ? { prependPath: join(window.extensionPath, 'bin') } : {}),
    ...(git.problem ? { problem: git.problem } : {}),
  };
}

/**
 * For the extension host's own environment at activation: another window's variables inherited
 * through `code .` are not this window's to pass on to the processes it starts (tasks, other
 * extensions' tools, VS Code's git).
 */
export function forgetInheritedTerminalVariables(env: Record<string, string | undefined>): void {
  for (const name of windowVariables) delete env[name];
  Object.assign(env, gitConfigVariables(env, []).variables);
}

export interface WindowTerminalsOptions {
  /** The per-user runtime directory the endpoint's socket goes to. */
  runtimeDirectory(): string;
  handle: RequestHandler;
  logger: Logger;
  /** The environment the window started with (before forgetInheritedTerminalVariables). */
  inherited: Environment;
  node: string;
  extensionPath: string;
  /** Listening failed: the shell tells the person, and gives new terminals the variables of a window that does not serve them. */
  onFailure(message: string): void;
  platform?: NodeJS.Platform;
}

/**
 * A window's service to its terminals: its endpoint and the variables for new terminals. The first
 * time terminal access is allowed, the endpoint's path and secret are chosen (so the environment is
 * right at once) and it starts listening in the background, for the rest of the window's life:
 * once terminal access is turned off, it answers every request with the reason (exit 4), where a
 * closed socket would tell the terminals opened before that their window is gone (exit 5).
 */
export class WindowTerminals {
  private plan: EndpointPlan | undefined;
  private listening: Promise<TerminalEndpoint | undefined> | undefined;

  constructor(private readonly options: WindowTerminalsOptions) {}

  /** The variables for new terminals, whether terminal access is `allowed` now. */
  variables(allowed: boolean, gitOrigins: readonly string[]): TerminalVariables {
    if (allowed && !this.plan) this.start();
    const { inherited, node, extensionPath } = this.options;
    return terminalVariables(inherited, allowed && this.plan ? { endpoint: this.plan, node, extensionPath, gitOrigins } : undefined);
  }

  /** The endpoint once it listens; undefined when it is not started or failed. */
  listeningEndpoint(): Promise<TerminalEndpoint | undefined> {
    return this.listening ?? Promise.resolve(undefined);
  }

  async close(): Promise<void> {
    const listening = this.listening;
    this.plan = undefined;
    this.listening = undefined;
    await (await listening)?.close();
  }

  private start(): void {
    const platform = this.options.platform ?? process.platform;
    const plan = planEndpoint(this.options.runtimeDirectory(), platform);
    this.plan = plan;
    // Listening touches the file system: not during activation itself.
    this.listening = new Promise((resolve) => setTimeout(resolve, 0)).then(() => (this.plan === plan ? this.listen(plan, platform) : undefined));
  }

  private async listen(plan: EndpointPlan, platform: NodeJS.Platform): Promise<TerminalEndpoint | undefined> {
    const { logger } = this.options;
    try {
      if (platform !== 'win32') await this.ensureCommandIsExecutable();
      // A named pipe on Windows lives in no directory; a socket file in the checked per-user one.
      const directory = platform === 'win32' ? undefined : await ensureRuntimeDirectory(dirname(plan.path));
      const removed = directory ? await removeStaleSockets(directory) : [];
      if (removed.length) logger.info(`Terminal: removed ${removed.length} socket(s) of VS Code windows that are gone.`);
      const endpoint = await openTerminalEndpoint(plan, this.options.handle, logger);
      logger.info(`Terminal tools can ask this window for tokens (endpoint in ${directory ?? 'a named pipe'}).`);
      if (this.plan !== plan) await endpoint.close(); // the window closed meanwhile
      return endpoint;
    } catch (error) {
      const message = errorText(error);
      logger.error(`Terminal tools cannot get tokens from this window: ${message}`);
      // The next change of settings or trust tries again.
      if (this.plan === plan) this.plan = undefined;
      this.options.onFailure(message);
      return undefined;
    }
  }

  /** A VSIX unpacked by a tool that drops file modes would leave the command unrunnable. */
  private async ensureCommandIsExecutable(): Promise<void> {
    const command = join(this.options.extensionPath, 'bin', 'oauth-anywhere');
    try {
      await access(command, constants.X_OK);
    } catch {
      await chmod(command, 0o755);
      this.options.logger.info(`Made ${command} executable (the installation had dropped its mode).`);
    }
  }
}
