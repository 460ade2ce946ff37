import { signInScopes } from '../auth/scopes.js';
import type { AuthSession, RejectionOutcome } from '../auth/sessionManager.js';
import type { SessionStore } from '../auth/sessionStore.js';
import { isOAuthError } from '../oauth/errors.js';
import type { Logger } from '../oauth/types.js';
import { describeCaller } from './callerProcess.js';
import type { ConsentKeeper, ConsentSubject } from './consent.js';
import { gitUsername, matchesGitTarget, type GitHost } from './gitHosts.js';
import type { ErrorCode, GitTarget, ProviderStatus, Reply, TerminalRequest, ToolKind } from './protocol.js';

/** A session's access token and its expiry, read from one stored record, so they always belong together. */
export interface StoredToken {
  accessToken: string;
  /** Epoch ms, if the identity provider said. */
  expiresAt?: number;
}

/** The session's stored token record, as getSessions left it (or newer: rotated since); undefined once signed out. */
export async function storedToken(store: Pick<SessionStore, 'session'>, sessionId: string): Promise<StoredToken | undefined> {
  const session = await store.session(sessionId);
  if (!session) return undefined;
  const { accessToken, expiresAt } = session.tokens;
  return expiresAt === undefined ? { accessToken } : { accessToken, expiresAt };
}

/** One authentication provider as terminal tools see it; the shell adapts the registered providers. */
export interface TerminalProvider {
  readonly id: string;
  readonly label: string;
  /** The sign-in configuration that consent answers are tied to; absent while `problem` is set. */
  readonly issuer?: string;
  readonly clientId?: string;
  /** The scopes a tool gets when it names none: the provider's configured ones. */
  readonly defaultScopes: readonly string[];
  readonly gitHosts: readonly GitHost[];
  /** The raw `gitUsername` setting (see gitUsername()). */
  readonly gitUsername: unknown;
  /** Why this provider cannot hand out tokens now (its settings), if it cannot. */
  readonly problem?: string;
  /** Sessions holding these scopes, with tokens valid now: the same refresh path and lock as getSession. */
  getSessions(scopes: readonly string[]): Promise<readonly AuthSession[]>;
  /** The interactive sign-in in the window; aborting `signal` ends it. */
  createSession(scopes: readonly string[], signal: AbortSignal): Promise<AuthSession>;
  reportRejected(sessionId: string): Promise<RejectionOutcome>;
  /** Every session as stored, unrefreshed. */
  listSessions(): Promise<readonly AuthSession[]>;
  /** See storedToken(). */
  storedToken(sessionId: string): Promise<StoredToken | undefined>;
}

export interface RequestContext {
  /** The command's process id (what it says of itself). */
  pid: number;
  /** Aborted when the command went away (Ctrl+C): a sign-in it started ends. */
  signal: AbortSignal;
  /** A line for the command to print on stderr while the request goes on. */
  notify(message: string): void;
}

export type Access = { allowed: true } | { allowed: false; reason: string };

/**
 * Terminal tools are served unless `oauthAnywhere.terminal.enabled` is false, and never in an
 * untrusted workspace: its tasks and scripts run in terminals of this window too.
 */
export function terminalAccess(enabledSetting: unknown, workspaceTrusted: boolean): Access {
  if (enabledSetting === false) return { allowed: false, reason: 'Terminal access is turned off in this VS Code window (setting "oauthAnywhere.terminal.enabled").' };
  if (!workspaceTrusted) {
    return { allowed: false, reason: 'The workspace of this VS Code window is not trusted, so its terminals get no tokens. Trust the workspace ("Workspaces: Manage Workspace Trust") to allow it.' };
  }
  return { allowed: true };
}

export interface TerminalBrokerOptions {
  providers(): readonly TerminalProvider[];
  consent: ConsentKeeper;
  /** Whether terminal tools are served now (the setting, workspace trust). */
  access(): Access;
  logger: Logger;
  describeCaller?: (pid: number) => Promise<string[] | undefined>;
}

const toolLabels: Record<ToolKind, string> = {
  token: 'oauth-anywhere token',
  git: 'git (credential helper)',
  kubectl: 'kubectl (exec credential plugin)',
};

interface CredentialAsk {
  kind: ToolKind;
  verb: string;
  scopes?: readonly string[];
  signIn: boolean;
  host?: string;
  cluster?: string;
}

/**
 * Answers the requests of terminal tools: which provider, consent, a token through the provider's
 * own getSessions (so the same refresh path and lock as every getSession), a sign-in in the window
 * when there is no session yet. Tokens appear only in the replies, never in a log line.
 */
export class TerminalBroker {
  private readonly describe: (pid: number) => Promise<string[] | undefined>;

  constructor(private readonly options: TerminalBrokerOptions) {
    this.describe = options.describeCaller ?? describeCaller;
  }

  async handle(request: TerminalRequest, context: RequestContext): Promise<Reply> {
    const access = this.options.access();
    if (!access.allowed) return error('refused', access.reason);
    try {
      switch (request.verb) {
        case 'status':
          return { kind: 'status', providers: await this.status() };
        case 'token':
        case 'kubectl': {
          const provider = this.providerNamed(request.provider);
          if (typeof provider === 'string') return error('usage', provider);
          const cluster = request.verb === 'kubectl' ? request.cluster : undefined;
          return await this.credential(provider, { kind: request.verb, verb: request.verb, scopes: request.scopes, signIn: request.signIn, ...(cluster ? { cluster } : {}) }, context);
        }
        case 'git-get': {
          const provider = this.gitProvider(request.target);
          if (!provider) return { kind: 'nothing' };
          const reply = await this.credential(provider, { kind: 'git', verb: 'git-credential get', signIn: request.signIn, host: request.target.host }, context);
          if (reply.kind === 'credential') reply.credential.username = gitUsername(provider.gitUsername, reply.credential.account);
          return reply;
        }
        case 'git-erase':
          return await this.erase(request.target, request.token);
      }
    } catch (caught) {
      if (isOAuthError(caught, 'cancelled')) return error('failed', 'The sign-in was cancelled.');
      const message = caught instanceof Error ? caught.message : String(caught);
      this.options.logger.warn(`Terminal request failed: ${message}`);
      return error('failed', message);
    }
  }

  private async credential(provider: TerminalProvider, ask: CredentialAsk, context: RequestContext): Promise<Reply> {
    const { consent, logger } = this.options;
    const tool = toolLabels[ask.kind];
    if (provider.problem || !provider.issuer || !provider.clientId) return error('failed', `${provider.label} is not set up: ${provider.problem ?? 'no issuer or client id'}`);
    const subject: ConsentSubject = { provider: { id: provider.id, label: provider.label, issuer: provider.issuer, clientId: provider.clientId }, kind: ask.kind, ...(ask.cluster ? { cluster: ask.cluster } : {}) };
    const remembered = consent.remembered(subject);
    if (remembered === 'deny') {
      return error('refused', `You denied ${tool} access to ${provider.label} in this VS Code window. Run "OAuth Anywhere: Reset Terminal Access" there to be asked again.`);
    }
    const scopes = ask.scopes?.length ? ask.scopes : provider.defaultScopes;
    const [offered] = await provider.getSessions(scopes);
    if (!offered && !ask.signIn) {
      return error('not-signed-in', `Not signed in to ${provider.label} with the scopes "${scopes.join(' ')}". Sign in from VS Code's Accounts menu, or run the command without --no-sign-in.`);
    }
    if (!remembered) {
      // Read from /proc only when a person is asked: remembered answers stay fast.
      const callers = await this.describe(context.pid);
      const allowed = await consent.decide(
        {
          ...subject,
          verb: ask.verb,
          ...(callers ? { callers } : {}),
          ...(offered ? { account: offered.account.label } : {}),
          // What the token will really carry: the session's granted scopes, or what the sign-in asks for.
          scopes: offered ? [...offered.scopes] : signInScopes(scopes, provider.defaultScopes),
          ...(ask.host ? { host: ask.host } : {}),
        },
        context.signal,
      );
      if (!allowed && !context.signal.aborted) {
        logger.info(`Terminal: ${tool} was refused a token of ${provider.label}.`);
        return error('refused', `Access to ${provider.label} was refused in the VS Code window.`);
      }
    }
    if (context.signal.aborted) return error('failed', 'The command stopped before it got an answer.');
    // The question may have been up for minutes: what was read before it may have expired or been
    // rotated since, or a sign-in may have finished. Without a question, what was read is current.
    let session = remembered ? offered : await this.afterTheQuestion(provider, scopes, offered);
    if (offered && !session) return error('failed', `The session of ${offered.account.label} at ${provider.label} ended while you were asked. Run the command again.`);
    if (!session) {
      logger.info(`Terminal: ${tool} asked for ${provider.label}, which has no session; signing in.`);
      context.notify(`Not signed in to ${provider.label}: sign in in the VS Code window (its notification shows how). Ctrl+C cancels.`);
      session = await provider.createSession(scopes, context.signal);
    }
    // The token and its expiry from one record: a refresh in between cannot pair one token's expiry with another.
    const token = await provider.storedToken(session.id);
    if (!token) return error('failed', `The session of ${session.account.label} at ${provider.label} was signed out just now. Run the command again.`);
    logger.info(`Terminal: gave ${tool} the token of ${session.account.label} at ${provider.label}.`);
    return {
      kind: 'credential',
      credential: {
        ...token,
        scopes: [...session.scopes],
        account: session.account.label,
        provider: { id: provider.id, label: provider.label },
      },
    };
  }

  /** The session the person was shown, read again; with none shown, any that serves the scopes now. */
  private async afterTheQuestion(provider: TerminalProvider, scopes: readonly string[], shown: AuthSession | undefined): Promise<AuthSession | undefined> {
    const sessions = await provider.getSessions(scopes);
    return shown ? sessions.find((candidate) => candidate.id === shown.id) : sessions[0];
  }

  /** git was refused with this token: the identity provider decides, as for reportRejectedToken. */
  private async erase(target: GitTarget, token: string): Promise<Reply> {
    const provider = this.gitProvider(target);
    if (!provider || !token) return { kind: 'done' };
    const session = (await provider.listSessions()).find((candidate) => candidate.accessToken === token);
    if (!session) {
      this.options.logger.debug(`Terminal: git reported a token for ${target.host} that no session holds any more; nothing to do.`);
      return { kind: 'done' };
    }
    const outcome = await provider.reportRejected(session.id);
    this.options.logger.info(`Terminal: ${target.host} refused the token of ${session.account.label} (${provider.label}); the session was ${outcome}.`);
    return { kind: 'done' };
  }

  private async status(): Promise<ProviderStatus[]> {
    return Promise.all(
      this.options.providers().map(async (provider) => ({
        id: provider.id,
        label: provider.label,
        ...(provider.problem ? { problem: provider.problem } : {}),
        gitHosts: provider.gitHosts.map((host) => host.origin),
        sessions: provider.problem
          ? []
          : await Promise.all(
              (await provider.listSessions()).map(async (session) => {
                const expiresAt = (await provider.storedToken(session.id))?.expiresAt;
                return { account: session.account.label, scopes: [...session.scopes], ...(expiresAt !== undefined ? { expiresAt } : {}) };
              }),
            ),
        alwaysAllowed: this.options.consent.alwaysAllowedTools(provider),
      })),
    );
  }

  /** `--provider work` finds `oauth-anywhere.work`; no name: the first (main) provider. */
  private providerNamed(name: string | undefined): TerminalProvider | string {
    const providers = this.options.providers();
    const found = name === undefined ? providers[0] : providers.find((provider) => provider.id === name || provider.id.endsWith(`.${name}`));
    if (found) return found;
    const known = providers.map((provider) => provider.id).join(', ') || 'none';
    return name === undefined ? 'No identity provider is set up in this VS Code window.' : `No provider "${name}" in this VS Code window; known: ${known}.`;
  }

  private gitProvider(target: GitTarget): TerminalProvider | undefined {
    return this.options.providers().find((provider) => provider.gitHosts.some((host) => matchesGitTarget(host, target)));
  }
}

function error(code: ErrorCode, message: string): Reply {
  return { kind: 'error', code, message };
}
