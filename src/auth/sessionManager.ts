import { randomUUID } from 'node:crypto';
import { realClock } from '../oauth/clock.js';
import type { OAuthClient } from '../oauth/client.js';
import { isOAuthError, errorText } from '../oauth/errors.js';
import type { Redactor } from '../oauth/redact.js';
import type { Clock, Logger, SignInResult } from '../oauth/types.js';
import type { MachineCoordination } from './coordination.js';
import type { LeaseTiming } from './refreshLease.js';
import { grantedScopes, normalizeScopes, scopesSatisfy, signInScopes } from './scopes.js';
import { SessionRefresher, type Staleness } from './sessionRefresher.js';
import { SessionStore, type SecretStoragePort, type SessionChanges, type StoredSession } from './sessionStore.js';
import { SignInQueue } from './signInQueue.js';
import { isExpired, needsRefresh } from './tokenFreshness.js';

/**
 * The part of the OAuth client the session layer uses. The shell passes one that loads the OAuth
 * core on first use, so that serving stored sessions never loads it.
 */
export type SessionClient = Pick<OAuthClient, 'issuer' | 'clientId' | 'refresh' | 'revoke' | 'checkAccessToken' | 'endSessionUrl'>;

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
  /** The windows of this machine (one per window, shared by its providers); without it, this window only. */
  coordination?: MachineCoordination;
  leaseTiming?: LeaseTiming;
  /** Sign-out waits at most this long for the IdP to confirm revocation. */
  revocationTimeoutMs?: number;
  /** Told of every session whose refresh failed while others were served (for the troubleshooting report). */
  onRefreshProblem?: (accountLabel: string, error: unknown) => void;
  /** See SessionStoreOptions.reconcileDelayMs. */
  reconcileDelayMs?: number;
  /** See RefresherOptions.catchUpMs. */
  catchUpMs?: number;
}

/**
 * The provider's logic without VS Code: which sessions serve a request, keeping their tokens fresh
 * (one refresh per session at a time, across windows too), signing in and out. The shell adapts it
 * to vscode.AuthenticationProvider.
 */
export class SessionManager {
  readonly store: SessionStore;
  private readonly clock: Clock;
  private readonly refresher: SessionRefresher;
  private readonly signIns = new SignInQueue<AuthSession>();

  constructor(private readonly options: SessionManagerOptions) {
    this.clock = options.clock ?? realClock;
    const identity = { providerId: options.providerId, issuer: options.client.issuer.href, clientId: options.client.clientId };
    this.store = new SessionStore(options.secrets, identity, options.logger, { exchange: options.coordination?.exchange, reconcileDelayMs: options.reconcileDelayMs, now: () => this.clock.now() });
    this.refresher = new SessionRefresher({ ...options, store: this.store, clock: this.clock });
  }

  /** Starts following other windows' changes. */
  watch(): { dispose(): void } {
    return this.store.watch();
  }

  onDidChangeSessions(listener: (changes: AuthSessionChanges) => void): { dispose(): void } {
    return this.store.onChange((changes: SessionChanges) => {
      this.store
        .all()
        .then((all) => {
          const label = accountLabels(all);
          const adapt = (sessions: StoredSession[]) => sessions.map((session) => toAuthSession(session, label));
          // VS Code's Accounts menu drops the ACCOUNT of every removed session and adds back only the
          // accounts of added or changed ones: the account's remaining sessions are reported as
          // changed, or the account would vanish while still signed in.
          const reported = new Set([...changes.added, ...changes.changed].map((session) => session.id));
          const removedAccounts = new Set(changes.removed.map((session) => session.account.id));
          const staying = all.filter((session) => removedAccounts.has(session.account.id) && !reported.has(session.id));
          listener({ added: adapt(changes.added), removed: adapt(changes.removed), changed: adapt([...changes.changed, ...staying]) });
        })
        .catch((error: unknown) => this.options.logger.warn(`Could not report a change of sessions: ${errorText(error)}`));
    });
  }

  /**
   * Without scopes (VS Code listing accounts): every session as it is, refreshing nothing. With
   * scopes: the sessions holding all of them, each with an access token valid now (one close to
   * expiry is refreshed first). One session's failure is logged and reported, never hides the others.
   */
  async getSessions(scopes?: readonly string[], accountId?: string): Promise<AuthSession[]> {
    this.refresher.announce();
    const all = await this.store.all();
    const label = accountLabels(all);
    const wanted = scopes ? normalizeScopes(scopes) : undefined;
    const matching = all.filter((session) => (!wanted || scopesSatisfy(session.scopes, wanted)) && (!accountId || session.account.id === accountId));
    for (const session of matching) this.options.redactor.remember(session.tokens.accessToken, session.tokens.refreshToken, session.tokens.idToken);
    if (!wanted) return matching.map((session) => toAuthSession(session, label));
    const results = await Promise.allSettled(matching.map((session) => this.freshen(session)));
    const served: AuthSession[] = [];
    for (const [index, result] of results.entries()) {
      if (result.status === 'fulfilled') {
        if (result.value) served.push(toAuthSession(result.value, label));
        continue;
      }
      const { account } = matching[index]!;
      const message = errorText(result.reason);
      this.options.logger.warn(`The session of ${account.label} could not be refreshed and is left out for now: ${message}`);
      this.options.onRefreshProblem?.(account.label, result.reason);
    }
    return served;
  }

  /** Every stored session as it is, without refreshing: for change notifications and the sign-out picker. */
  async listSessions(): Promise<AuthSession[]> {
    return this.getSessions(undefined);
  }

  /**
   * Signs in, one sign-in at a time. Callers asking for the same scopes and account share one sign-in
   * (and its Cancel); a caller queued behind another sign-in reuses its session when it serves it.
   */
  createSession(scopes: readonly string[], account?: { id: string; label: string }, signal?: AbortSignal): Promise<AuthSession> {
    const requested = signInScopes(scopes, this.options.configuredScopes);
    return this.signIns.run(
      JSON.stringify([requested, account?.id ?? null]),
      async (signInSignal, waitedBehindOthers) => {
        if (waitedBehindOthers) {
          const [existing] = await this.getSessions(requested, account?.id);
          if (existing) return existing;
        }
        return this.signInAndStore(requested, account, signInSignal);
      },
      signal,
    );
  }

  /**
   * Signs out: the session is marked removed in this window, in storage and in every window of this
   * machine at once (so it cannot come back), then its tokens are revoked at the IdP (best effort).
   * Resolves with the session that was removed (its ID token serves an RP-initiated logout).
   */
  async removeSession(sessionId: string): Promise<AuthSession | undefined> {
    const label = accountLabels(await this.store.all());
    const removed = await this.refresher.whileHolding(
      sessionId,
      async (lock) => {
        await this.store.catchUp(sessionId);
        return this.refresher.removeHolding(sessionId, lock);
      },
      { bestEffort: true },
    );
    if (!removed) {
      this.options.logger.info(`Sign-out: no session ${sessionId}; nothing to do.`);
      return undefined;
    }
    await this.revoke(removed);
    this.options.logger.info(`Signed out ${removed.account.label}.`);
    return toAuthSession(removed, label);
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
    const session = await this.store.session(sessionId);
    if (!session) return 'removed';
    const rejectedToken = session.tokens.accessToken;
    if (session.tokens.refreshToken) {
      // Refresh unless another window already replaced the refused token.
      let refreshed: StoredSession | undefined;
      try {
        refreshed = await this.refresher.refresh(sessionId, (stored) => stored.tokens.accessToken === rejectedToken);
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
    await this.refresher.whileHolding(sessionId, async (lock) => {
      const current = await this.store.session(sessionId);
      if (current?.tokens.accessToken === rejectedToken) await this.refresher.removeHolding(sessionId, lock);
    });
    return 'removed';
  }

  dispose(): void {
    this.store.dispose();
  }

  private async signInAndStore(requested: string[], account: { id: string; label: string } | undefined, signal: AbortSignal): Promise<AuthSession> {
    const { logger, client } = this.options;
    const result = await this.options.signIn({ scopes: requested, loginHint: account?.label, signal });
    this.options.redactor.remember(result.tokens.accessToken, result.tokens.refreshToken, result.tokens.idToken);
    const accountId = `${client.issuer.href}#${result.identity.subject}`;
    if (account && account.id !== accountId) logger.warn(`Asked to sign in as ${account.label} but the identity provider signed in ${result.identity.label}; keeping the latter.`);
    const scopes = grantedScopes(requested, result.tokens);
    const declined = requested.filter((scope) => !scopes.includes(scope));
    if (declined.length) logger.warn(`The identity provider did not grant "${declined.join(' ')}"; the session holds "${scopes.join(' ')}".`);
    // Signing in again with the same account and scopes replaces the old session rather than adding a twin.
    const twin = (await this.store.all()).find((session) => session.account.id === accountId && session.scopes.join(' ') === scopes.join(' '));
    const stored = await this.store.put({
      id: twin?.id ?? randomUUID(),
      account: { id: accountId, label: result.identity.label },
      scopes,
      tokens: result.tokens,
      createdAt: this.clock.now(),
    });
    logger.info(`Signed in ${stored.account.label} with scopes "${scopes.join(' ')}".`);
    return toAuthSession(stored, accountLabels(await this.store.all()));
  }

  /** The session with a token valid now, or undefined when it had to be dropped. */
  private async freshen(session: StoredSession): Promise<StoredSession | undefined> {
    const stale: Staleness = (stored) => needsRefresh(stored.tokens, this.clock.now());
    if (!stale(session)) return session;
    try {
      return await this.refresher.refresh(session.id, stale);
    } catch (error) {
      // A refresh that failed for a passing reason (network, IdP down) keeps the session; while its
      // token has not expired yet it is still served.
      const current = (await this.store.session(session.id)) ?? session;
      if (!isExpired(current.tokens, this.clock.now()) && !isOAuthError(error, 'cancelled')) {
        this.options.logger.warn(`Refresh of ${current.account.label} failed, using the current token until it expires: ${errorText(error)}`);
        return current;
      }
      throw error;
    }
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

/**
 * One label per account: the Accounts menu lists accounts by label, and sessions of one account
 * asked with different scopes may name it differently (`alice` with `profile`, `alice@example.test`
 * with `email`). The account's first session names it.
 */
function accountLabels(sessions: readonly StoredSession[]): (session: StoredSession) => string {
  const first = new Map<string, StoredSession>();
  for (const session of sessions) {
    const known = first.get(session.account.id);
    if (!known || session.createdAt < known.createdAt) first.set(session.account.id, session);
  }
  return (session) => first.get(session.account.id)?.account.label ?? session.account.label;
}

export function toAuthSession(session: StoredSession, label: (session: StoredSession) => string = (each) => each.account.label): AuthSession {
  return {
    id: session.id,
    accessToken: session.tokens.accessToken,
    account: { id: session.account.id, label: label(session) },
    scopes: session.scopes,
    ...(session.tokens.idToken ? { idToken: session.tokens.idToken } : {}),
  };
}

