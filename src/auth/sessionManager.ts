import { randomUUID } from 'node:crypto';
import { realClock } from '../oauth/clock.js';
import type { OAuthClient } from '../oauth/client.js';

/**
 * The part of the OAuth client the session layer uses. The shell passes one that loads the OAuth
 * core on first use, so that serving stored sessions never loads it.
 */
export type SessionClient = Pick<OAuthClient, 'issuer' | 'clientId' | 'refresh' | 'revoke' | 'checkAccessToken' | 'endSessionUrl'>;
import { isOAuthError, OAuthError } from '../oauth/errors.js';
import type { Redactor } from '../oauth/redact.js';
import type { Clock, Logger, SignInResult } from '../oauth/types.js';
import { defaultLeaseTiming, RefreshLease, type LeaseTiming } from './refreshLease.js';
import { normalizeScopes, scopesSatisfy, signInScopes } from './scopes.js';
import { SessionStore, type SecretStoragePort, type SessionChanges, type StoredSession } from './sessionStore.js';
import { isExpired, needsRefresh } from './tokenFreshness.js';

/** Structurally a vscode.AuthenticationSession. */
export interface AuthSession {
  id: string;
  accessToken: string;
  account: { id: string; label: string };
  scopes: readonly string[];
  idToken?: string;
}

export interface AuthSessionChanges {
  added: AuthSession[];
  removed: AuthSession[];
  changed: AuthSession[];
}

/** What reportRejected found out: the session was refreshed, kept as it is, or removed. */
export type RejectionOutcome = 'refreshed' | 'kept' | 'removed';

export interface SignInRequest {
  scopes: string[];
  /** The account VS Code asked for, sent to the IdP as `login_hint`. */
  loginHint?: string;
  /** Ends the sign-in when the one who asked for it is gone (a terminal tool stopped with Ctrl+C). */
  signal?: AbortSignal;
}

/** Runs one interactive sign-in (the shell shows the prompts); resolves with tokens and identity. */
export type SignInRunner = (request: SignInRequest) => Promise<SignInResult>;

export interface SessionManagerOptions {
  providerId: string;
  client: SessionClient;
  configuredScopes: readonly string[];
  secrets: SecretStoragePort;
  signIn: SignInRunner;
  logger: Logger;
  redactor: Redactor;
  clock?: Clock;
  leaseTiming?: LeaseTiming;
  /** Sign-out waits at most this long for the IdP to confirm revocation. */
  revocationTimeoutMs?: number;
}

/**
 * The provider's logic without VS Code: which sessions serve a request, keeping their tokens fresh
 * (one refresh per session at a time, across windows too), signing in and out. The shell adapts it
 * to vscode.AuthenticationProvider.
 */
export class SessionManager {
  readonly store: SessionStore;
  private readonly lease: RefreshLease;
  private readonly clock: Clock;
  private readonly refreshing = new Map<string, Promise<StoredSession | undefined>>();
  private signingIn: Promise<unknown> | undefined;

  constructor(private readonly options: SessionManagerOptions) {
    this.clock = options.clock ?? realClock;
    const identity = { providerId: options.providerId, issuer: options.client.issuer.href, clientId: options.client.clientId };
    this.store = new SessionStore(options.secrets, identity, options.logger);
    this.lease = new RefreshLease(options.secrets, `${this.store.key}.refresh-lease`, this.clock, options.leaseTiming ?? defaultLeaseTiming);
  }

  /** Starts following other windows' changes. */
  watch(): { dispose(): void } {
    return this.store.watch();
  }

  onDidChangeSessions(listener: (changes: AuthSessionChanges) => void): { dispose(): void } {
    return this.store.onChange((changes: SessionChanges) =>
      listener({ added: changes.added.map(toAuthSession), removed: changes.removed.map(toAuthSession), changed: changes.changed.map(toAuthSession) }),
    );
  }

  /**
   * Sessions holding every requested scope (all sessions when `scopes` is undefined), each with an
   * access token that is valid now: one close to expiry is refreshed first.
   */
  async getSessions(scopes?: readonly string[], accountId?: string): Promise<AuthSession[]> {
    const wanted = scopes ? normalizeScopes(scopes) : undefined;
    const matching = (await this.store.all()).filter(
      (session) => (!wanted || scopesSatisfy(session.scopes, wanted)) && (!accountId || session.account.id === accountId),
    );
    const fresh = await Promise.all(matching.map((session) => this.freshen(session)));
    return fresh.filter((session): session is StoredSession => !!session).map(toAuthSession);
  }

  /** Every stored session as it is, without refreshing: for change notifications and the sign-out picker. */
  async listSessions(): Promise<AuthSession[]> {
    return (await this.store.all()).map(toAuthSession);
  }

  async createSession(scopes: readonly string[], account?: { id: string; label: string }, signal?: AbortSignal): Promise<AuthSession> {
    // One sign-in at a time: a second caller waits and reuses the result when it serves it too.
    if (this.signingIn) {
      while (this.signingIn) await this.signingIn.catch(() => undefined);
      const [existing] = await this.getSessions(signInScopes(scopes, this.options.configuredScopes), account?.id);
      if (existing) return existing;
    }
    const requested = signInScopes(scopes, this.options.configuredScopes);
    const run = this.signInAndStore(requested, account, signal);
    this.signingIn = run;
    try {
      return await run;
    } finally {
      this.signingIn = undefined;
    }
  }

  /** Revokes at the IdP (best effort), then forgets the session locally whatever the IdP said. */
  /** Resolves with the session that was removed (its ID token serves an RP-initiated logout). */
  async removeSession(sessionId: string): Promise<AuthSession | undefined> {
    const session = (await this.store.all()).find((candidate) => candidate.id === sessionId);
    if (!session) {
      this.options.logger.info(`Sign-out: no session ${sessionId}; nothing to do.`);
      return undefined;
    }
    await this.revoke(session);
    await this.store.update((sessions) => sessions.filter((candidate) => candidate.id !== sessionId));
    this.options.logger.info(`Signed out ${session.account.label}.`);
    return toAuthSession(session);
  }

  /** Where to send the browser to end the session at the identity provider too (when it can). */
  endSessionUrl(idToken: string | undefined): Promise<URL | undefined> {
    return this.options.client.endSessionUrl(idToken);
  }

  /**
   * An API answered 401 to this session's access token. Tokens without expiry (GitHub) or an API
   * with its own opinion make that the only sign of a dead session, but a 401 can also be the API's
   * mistake, so the identity provider decides: a refresh token is used at once (a new access token
   * is the cure if the old one merely lapsed early); without one, the account endpoint or userinfo
   * is asked about the token. The session is dropped (firing `removed`) only when the identity
   * provider rejects it too; when it cannot be asked, or cannot be reached, the session is kept.
   */
  async reportRejected(sessionId: string): Promise<RejectionOutcome> {
    const { client, logger } = this.options;
    const session = await this.storedSession(sessionId);
    if (!session) return 'removed';
    const rejectedToken = session.tokens.accessToken;
    if (session.tokens.refreshToken) {
      // Refresh unless another window already replaced the refused token.
      let refreshed: StoredSession | undefined;
      try {
        refreshed = await this.refreshOnce(sessionId, (stored) => stored.tokens.accessToken === rejectedToken);
      } catch (error) {
        logger.warn(`Could not refresh the refused session of ${session.account.label} (${errorText(error)}); keeping it.`);
        return 'kept';
      }
      if (!refreshed) return 'removed';
      return refreshed.tokens.accessToken === rejectedToken ? 'kept' : 'refreshed';
    }
    let verdict: Awaited<ReturnType<SessionClient['checkAccessToken']>>;
    try {
      verdict = await client.checkAccessToken(rejectedToken);
    } catch (error) {
      logger.warn(`Could not ask the identity provider about the refused token of ${session.account.label} (${errorText(error)}); keeping the session.`);
      return 'kept';
    }
    if (verdict !== 'rejected') {
      logger.info(verdict === 'valid'
        ? `The identity provider still accepts the token of ${session.account.label}; the API's refusal is about something else, so the session stays.`
        : `The identity provider offers no way to check the token of ${session.account.label}; the session stays.`);
      return 'kept';
    }
    logger.warn(`The identity provider no longer accepts the token of ${session.account.label}; removing the session. The next request signs in again.`);
    await this.store.update((sessions) => sessions.filter((candidate) => candidate.id !== sessionId || candidate.tokens.accessToken !== rejectedToken));
    return 'removed';
  }

  dispose(): void {
    this.store.dispose();
  }

  private async signInAndStore(scopes: string[], account?: { id: string; label: string }, signal?: AbortSignal): Promise<AuthSession> {
    const { logger, client } = this.options;
    const result = await this.options.signIn({ scopes, loginHint: account?.label, signal });
    this.options.redactor.remember(result.tokens.accessToken, result.tokens.refreshToken, result.tokens.idToken);
    const accountId = `${client.issuer.href}#${result.identity.subject}`;
    if (account && account.id !== accountId) logger.warn(`Asked to sign in as ${account.label} but the identity provider signed in ${result.identity.label}; keeping the latter.`);

    let stored!: StoredSession;
    await this.store.update((sessions) => {
      // Signing in again with the same account and scopes replaces the old session rather than adding a twin.
      const twin = sessions.find((session) => session.account.id === accountId && session.scopes.join(' ') === scopes.join(' '));
      stored = {
        id: twin?.id ?? randomUUID(),
        account: { id: accountId, label: result.identity.label },
        scopes,
        tokens: result.tokens,
        createdAt: this.clock.now(),
      };
      return twin ? sessions.map((session) => (session === twin ? stored : session)) : [...sessions, stored];
    });
    logger.info(`Signed in ${stored.account.label} with scopes "${scopes.join(' ')}".`);
    return toAuthSession(stored);
  }

  /** The session with a token valid now, or undefined when it had to be dropped. */
  private async freshen(session: StoredSession): Promise<StoredSession | undefined> {
    this.options.redactor.remember(session.tokens.accessToken, session.tokens.refreshToken, session.tokens.idToken);
    if (!needsRefresh(session.tokens, this.clock.now())) return session;
    try {
      return await this.refreshOnce(session.id);
    } catch (error) {
      // A refresh that failed for a passing reason (network, IdP down) keeps the session; while its
      // token has not expired yet it is still served.
      if (!isExpired(session.tokens, this.clock.now())) {
        this.options.logger.warn(`Refresh of ${session.account.label} failed, using the current token until it expires: ${errorText(error)}`);
        return session;
      }
      throw error;
    }
  }

  /**
   * Concurrent callers in this window share one refresh per session. `stale` says whether a stored
   * session still needs it: by default when it is close to expiry.
   */
  private refreshOnce(sessionId: string, stale?: (session: StoredSession) => boolean): Promise<StoredSession | undefined> {
    let pending = this.refreshing.get(sessionId);
    if (!pending) {
      pending = this.refreshCoordinated(sessionId, stale ?? ((session) => needsRefresh(session.tokens, this.clock.now()))).finally(() => this.refreshing.delete(sessionId));
      this.refreshing.set(sessionId, pending);
    }
    return pending;
  }

  /** Refresh under the cross-window lease; another window's fresh result is used instead when there is one. */
  private async refreshCoordinated(sessionId: string, stale: (session: StoredSession) => boolean): Promise<StoredSession | undefined> {
    const timing = this.options.leaseTiming ?? defaultLeaseTiming;
    const giveUpAt = this.clock.now() + timing.leaseMs;
    for (;;) {
      const stored = await this.storedSession(sessionId);
      if (!stored || !stale(stored)) return stored;
      if (await this.lease.tryAcquire(sessionId)) {
        try {
          return await this.refreshHoldingLease(sessionId, stale);
        } finally {
          await this.lease.release(sessionId);
        }
      }
      if (this.clock.now() > giveUpAt) throw new OAuthError('timeout', 'Another VS Code window has been refreshing this session for too long. Try again, or sign out and in.');
      // Another window is refreshing: wait for its result to reach storage.
      await this.clock.sleep(timing.settleMs);
    }
  }

  private async refreshHoldingLease(sessionId: string, stale: (session: StoredSession) => boolean): Promise<StoredSession | undefined> {
    const { client, logger } = this.options;
    const stored = await this.storedSession(sessionId);
    if (!stored || !stale(stored)) return stored;
    try {
      const tokens = await client.refresh(stored.tokens);
      this.options.redactor.remember(tokens.accessToken, tokens.refreshToken, tokens.idToken);
      // Persist first: a rotated refresh token that only lived in memory would be lost with the window.
      let updated: StoredSession | undefined;
      await this.store.update((sessions) =>
        sessions.map((session) => (session.id === sessionId ? (updated = { ...session, tokens }) : session)),
      );
      logger.info(`Refreshed the session of ${stored.account.label}.`);
      return updated;
    } catch (error) {
      if (!isOAuthError(error, 'invalid_grant')) throw error;
      // Another window may have rotated the refresh token meanwhile: storage has the truth.
      const latest = await this.storedSession(sessionId);
      if (latest && latest.tokens.refreshToken !== stored.tokens.refreshToken) {
        logger.info('The refresh token was rotated by another window; using its result.');
        return stale(latest) ? this.refreshHoldingLease(sessionId, stale) : latest;
      }
      logger.warn(`The identity provider no longer accepts the session of ${stored.account.label} (${error.message}); removing it. The next request signs in again.`);
      await this.store.update((sessions) => sessions.filter((session) => session.id !== sessionId));
      return undefined;
    }
  }

  private async storedSession(sessionId: string): Promise<StoredSession | undefined> {
    return (await this.store.reload()).find((session) => session.id === sessionId);
  }

  private async revoke(session: StoredSession): Promise<void> {
    const { client, logger } = this.options;
    const signal = AbortSignal.timeout(this.options.revocationTimeoutMs ?? 10_000);
    const tokens: Array<[string | undefined, 'refresh_token' | 'access_token']> = [
      [session.tokens.refreshToken, 'refresh_token'],
      [session.tokens.accessToken, 'access_token'],
    ];
    for (const [token, hint] of tokens) {
      if (!token) continue;
      try {
        const revoked = await client.revoke(token, hint, signal);
        if (!revoked) {
          logger.info('The identity provider offers no revocation endpoint; the session is only removed locally.');
          return;
        }
        logger.info(`Revoked the ${hint.replace('_', ' ')} at the identity provider.`);
      } catch (error) {
        logger.warn(`Could not revoke the ${hint.replace('_', ' ')} (${errorText(error)}); signing out locally anyway.`);
      }
    }
  }
}

export function toAuthSession(session: StoredSession): AuthSession {
  return {
    id: session.id,
    accessToken: session.tokens.accessToken,
    account: { ...session.account },
    scopes: session.scopes,
    ...(session.tokens.idToken ? { idToken: session.tokens.idToken } : {}),
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
