import * as vscode from 'vscode';
import type { AuthSessionChanges, RejectionOutcome, SessionManager } from '../auth/sessionManager.js';
import type { SettingProblem } from '../config.js';
import { isOAuthError } from '../oauth/errors.js';
import type { Logger } from '../oauth/types.js';
import { notifySettingsProblems, notifySignInFailure } from './notifications.js';
import { openIdentityProviderPage } from './openExternal.js';
import type { RecentErrors } from './services.js';

export type ManagerFactory = () => { manager: SessionManager; signOutAtIdentityProvider: boolean } | { problems: SettingProblem[] };

type Backend = { manager: SessionManager; signOutAtIdentityProvider: boolean; subscriptions: vscode.Disposable[] } | { problems: SettingProblem[] };

/**
 * vscode.AuthenticationProvider over a SessionManager. The manager is built from the settings on first
 * use, not at activation, so activation does no network and no storage I/O; a settings change
 * rebuilds it and tells VS Code which sessions went and came.
 */
export class OAuthAnywhereProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  private readonly changes = new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.changes.event;
  private backend: Backend | undefined;

  constructor(
    readonly id: string,
    readonly label: string,
    private readonly createManager: ManagerFactory,
    private readonly logger: Logger,
    private readonly recentErrors: RecentErrors,
  ) {}

  async getSessions(scopes: readonly string[] | undefined, options: vscode.AuthenticationProviderSessionOptions = {}): Promise<vscode.AuthenticationSession[]> {
    const backend = this.connect();
    if ('problems' in backend) return [];
    return backend.manager.getSessions(scopes, options.account?.id);
  }

  /** `signal` (a terminal tool's request) ends the sign-in when its caller goes away; VS Code passes none. */
  async createSession(scopes: readonly string[], options: vscode.AuthenticationProviderSessionOptions = {}, signal?: AbortSignal): Promise<vscode.AuthenticationSession> {
    const backend = this.connect();
    if ('problems' in backend) {
      notifySettingsProblems(backend.problems);
      throw new Error(backend.problems.map((problem) => problem.message).join(' '));
    }
    try {
      return await backend.manager.createSession(scopes, options.account, signal);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A person pressing Cancel is not an error worth an error line.
      if (isOAuthError(error, 'cancelled')) this.logger.info(`Sign-in stopped: ${message}`);
      else {
        this.logger.error(`Sign-in failed: ${message}`);
        this.recentErrors.add(this.label, message);
      }
      notifySignInFailure(error);
      throw error;
    }
  }

  async removeSession(sessionId: string): Promise<void> {
    const backend = this.connect();
    if (!('manager' in backend)) return;
    const removed = await backend.manager.removeSession(sessionId);
    if (removed && backend.signOutAtIdentityProvider) await this.endSessionAtIdentityProvider(backend.manager, removed.idToken);
  }

  /** A consumer's API refused this session's token: the IdP decides whether the session lives on. */
  async reportRejected(sessionId: string): Promise<RejectionOutcome> {
    const backend = this.connect();
    if (!('manager' in backend)) return 'removed';
    return backend.manager.reportRejected(sessionId);
  }

  /** The sessions of the current configuration, unrefreshed (for pickers). */
  async listSessions(): Promise<vscode.AuthenticationSession[]> {
    const backend = this.connect();
    return 'manager' in backend ? backend.manager.listSessions() : [];
  }

  /**
   * When the session's access token expires (epoch ms), for terminal tools that pass it on (git's
   * password_expiry_utc, kubectl's expirationTimestamp). Sessions carry no expiry, so it is read
   * from the manager's store, as stored.
   */
  async tokenExpiry(sessionId: string): Promise<number | undefined> {
    const backend = this.connect();
    if (!('manager' in backend)) return undefined;
    return (await backend.manager.store.all()).find((session) => session.id === sessionId)?.tokens.expiresAt;
  }

  /** Settings changed: the old configuration's sessions leave the Accounts menu, the new one's arrive. */
  async reconfigure(): Promise<void> {
    const previous = this.backend;
    this.backend = undefined;
    if (previous && 'manager' in previous) {
      const removed = await previous.manager.listSessions();
      this.release(previous);
      if (removed.length) this.changes.fire({ added: [], removed, changed: [] });
    }
    const next = this.connect();
    if ('manager' in next) {
      const added = await next.manager.listSessions();
      if (added.length) this.changes.fire({ added, removed: [], changed: [] });
    }
  }

  dispose(): void {
    if (this.backend) this.release(this.backend);
    this.changes.dispose();
  }

  /** RP-initiated logout, when asked for: the browser ends the session at the IdP as well. */
  private async endSessionAtIdentityProvider(manager: SessionManager, idToken: string | undefined): Promise<void> {
    try {
      const url = await manager.endSessionUrl(idToken);
      if (!url) {
        this.logger.info('The identity provider offers no end_session_endpoint; signed out in VS Code only.');
        return;
      }
      this.logger.info(`Ending the session at the identity provider (${url.origin}${url.pathname}).`);
      await openIdentityProviderPage(url.href, 'end_session_endpoint');
    } catch (error) {
      this.logger.warn(`Could not end the session at the identity provider: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private connect(): Backend {
    if (this.backend) return this.backend;
    const made = this.createManager();
    if ('problems' in made) {
      for (const problem of made.problems) this.logger.warn(`${this.label}: ${problem.setting}: ${problem.message}`);
      this.backend = made;
      return made;
    }
    const { manager, signOutAtIdentityProvider } = made;
    const subscriptions = [manager.watch(), manager.onDidChangeSessions((changes: AuthSessionChanges) => this.changes.fire(changes))];
    this.backend = { manager, signOutAtIdentityProvider, subscriptions };
    return this.backend;
  }

  private release(backend: Backend): void {
    if ('manager' in backend) {
      for (const subscription of backend.subscriptions) subscription.dispose();
      backend.manager.dispose();
    }
  }
}
