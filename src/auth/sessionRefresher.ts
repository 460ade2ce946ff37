import type { RefreshResult } from '../oauth/client.js';
import { isOAuthError, OAuthError, errorText } from '../oauth/errors.js';
import type { Redactor } from '../oauth/redact.js';
import type { Clock, Logger } from '../oauth/types.js';
import type { MachineCoordination, SessionLock } from './coordination.js';
import type { MachinePresence } from './machinePresence.js';
import { defaultLeaseTiming, RefreshLease, type LeaseTiming } from './refreshLease.js';
import type { SecretStoragePort, SessionStore, StoredSession } from './sessionStore.js';

export interface RefreshClient {
  readonly issuer: URL;
  refresh(tokens: StoredSession['tokens'], signal?: AbortSignal): Promise<RefreshResult>;
  revoke(token: string, hint: 'refresh_token' | 'access_token', signal?: AbortSignal): Promise<boolean>;
}

export interface RefresherOptions {
  store: SessionStore;
  client: RefreshClient;
  secrets: SecretStoragePort;
  logger: Logger;
  redactor: Redactor;
  clock: Clock;
  /** The machine's windows; without it, this window coordinates only with itself and through SecretStorage. */
  coordination?: MachineCoordination;
  leaseTiming?: LeaseTiming;
  /** How long the holder of the lock waits for the newest tokens another window wrote to reach it. */
  catchUpMs?: number;
}

/** Whether a stored session still needs refreshing (by default: close to expiry). */
export type Staleness = (session: StoredSession) => boolean;

/**
 * Refreshes a session at most once at a time among all windows, and never from a spent refresh
 * token. In this window, concurrent callers share one refresh. Among the windows of this machine, a
 * file lock in the runtime directory lets one refresh at a time, and its holder first catches up with
 * the newest tokens any window wrote (a revision mark next to the lock says which revision that is;
 * the tokens themselves come from the other windows' sockets or from storage). Among machines that
 * share SecretStorage (a desktop and its remote hosts), a SecretStorage lease, which is best-effort,
 * and only used while another machine is around because it costs a wait longer than storage takes
 * to propagate. The identity provider's answer is stored before anything else can fail.
 */
export class SessionRefresher {
  private readonly inFlight = new Map<string, Promise<StoredSession | undefined>>();
  private crossMachine: Promise<{ presence: MachinePresence; lease: RefreshLease } | undefined> | undefined;

  constructor(private readonly options: RefresherOptions) {}

  /** The session with fresh tokens, the same if it no longer needs them, or undefined when it is gone. */
  refresh(sessionId: string, stale: Staleness): Promise<StoredSession | undefined> {
    let pending = this.inFlight.get(sessionId);
    if (!pending) {
      pending = this.refreshAmongWindows(sessionId, stale).finally(() => this.inFlight.delete(sessionId));
      this.inFlight.set(sessionId, pending);
    }
    return pending;
  }

  /**
   * Tells other machines sharing SecretStorage that this one is around (at most every 30 minutes),
   * so that they keep it out of their refreshes. Called whenever sessions are served.
   */
  announce(): void {
    void this.crossMachineParts()
      .then((cross) => cross?.presence.announce())
      .catch((error: unknown) => this.options.logger.debug(`Could not announce this machine: ${errorText(error)}`));
  }

  /**
   * Holds off every refresh of this session on this machine while `step` runs. With `bestEffort`
   * (a sign-out, which must work whatever happens to the runtime directory) a lock that cannot be
   * taken is logged and `step` runs anyway.
   */
  async whileHolding<T>(sessionId: string, step: (lock: SessionLock) => Promise<T>, options: { bestEffort?: boolean } = {}): Promise<T> {
    let lock: SessionLock;
    try {
      lock = await this.lock(sessionId);
    } catch (error) {
      if (!options.bestEffort) throw error;
      this.options.logger.warn(`Could not hold off the other windows (${errorText(error)}); going on without.`);
      lock = unlocked;
    }
    try {
      return await step(lock);
    } finally {
      await lock.release();
    }
  }

  private async refreshAmongWindows(sessionId: string, stale: Staleness): Promise<StoredSession | undefined> {
    const current = await this.options.store.session(sessionId);
    if (!current || !stale(current)) return current;
    return this.whileHolding(sessionId, async (lock) => {
      const newest = await this.catchUp(sessionId, lock);
      if (!newest || !stale(newest)) return newest;
      const crossMachine = await this.crossMachineLease(sessionId, stale, lock);
      if (crossMachine.outcome === 'served') return crossMachine.session;
      try {
        return await this.refreshNow(crossMachine.session, stale, lock);
      } finally {
        if (crossMachine.outcome === 'held') await crossMachine.lease.release(sessionId).catch(() => undefined);
      }
    });
  }

  private async lock(sessionId: string): Promise<SessionLock> {
    const { coordination, store } = this.options;
    return coordination ? coordination.lockSession(store.key, sessionId) : unlocked;
  }

  /**
   * The newest entry of the session that any window of this machine wrote. The revision mark says
   * which revision that is; until it arrives (over the sockets, or through storage) nothing is
   * refreshed, because refreshing with an older, spent refresh token makes many identity providers
   * revoke the whole grant.
   */
  private async catchUp(sessionId: string, lock: SessionLock): Promise<StoredSession | undefined> {
    const { store, clock } = this.options;
    const mark = await lock.lastRevision();
    const giveUpAt = clock.now() + (this.options.catchUpMs ?? 5_000);
    for (;;) {
      const entry = await store.catchUp(sessionId);
      if (!entry || entry.removed) return undefined;
      if (mark === undefined || entry.revision >= mark) return entry.session;
      if (clock.now() > giveUpAt) {
        if (await lock.writerAlive()) {
          // Late, not lost: the window that wrote them still runs (its socket may not be reachable,
          // storage may be slow). This request fails; the session stays for the next one.
          throw new OAuthError('timeout', `Another VS Code window refreshed the session of ${entry.session.account.label}, and its new tokens have not reached this window yet.`);
        }
        // The window that wrote them is gone before any other window or storage got them: the
        // tokens this window holds are spent. Signing out once beats asking every few seconds.
        this.options.logger.warn(`Another VS Code window refreshed the session of ${entry.session.account.label}, and its new tokens were lost (that window closed before they reached this one or storage). Removing the session; the next request signs in again.`);
        await this.removeHolding(sessionId, lock);
        return undefined;
      }
      await clock.sleep(50);
    }
  }

  /**
   * Keeps other machines out while this one refreshes, when there are any. Another machine's live
   * lease means its result is on the way through storage: wait for it.
   */
  private async crossMachineLease(
    sessionId: string,
    stale: Staleness,
    lock: SessionLock,
  ): Promise<{ outcome: 'served'; session: StoredSession | undefined } | { outcome: 'held'; lease: RefreshLease; session: StoredSession } | { outcome: 'alone'; session: StoredSession }> {
    const { store, clock, logger } = this.options;
    const cross = await this.crossMachineParts();
    const current = await store.session(sessionId);
    if (!current) return { outcome: 'served', session: undefined };
    if (!cross) return { outcome: 'alone', session: current };
    this.announce();
    if (lock.exact && !(await cross.presence.othersAround())) return { outcome: 'alone', session: current };
    const timing = this.options.leaseTiming ?? defaultLeaseTiming;
    // Measured on this machine's clock: another machine's lease may carry a clock that runs ahead.
    const waitUntil = clock.now() + timing.leaseMs;
    for (;;) {
      const abandoned = clock.now() > waitUntil;
      if (abandoned) logger.warn('Another machine held the refresh of this session for too long; taking it over.');
      if (await cross.lease.tryAcquire(sessionId, { takeOver: abandoned })) {
        // Another machine may have finished just before: its result may have reached storage.
        const entry = await store.catchUp(sessionId);
        if (!entry || entry.removed || !stale(entry.session)) {
          await cross.lease.release(sessionId);
          return { outcome: 'served', session: entry && !entry.removed ? entry.session : undefined };
        }
        return { outcome: 'held', lease: cross.lease, session: entry.session };
      }
      logger.debug('Another machine is refreshing this session; waiting for its tokens to reach SecretStorage.');
      while (clock.now() <= waitUntil) {
        await clock.sleep(250);
        const entry = await store.catchUp(sessionId);
        if (!entry || entry.removed) return { outcome: 'served', session: undefined };
        if (!stale(entry.session)) return { outcome: 'served', session: entry.session };
        if (!(await cross.lease.heldByOther(sessionId))) break;
      }
    }
  }

  private crossMachineParts(): Promise<{ presence: MachinePresence; lease: RefreshLease } | undefined> {
    this.crossMachine ??= (async () => {
      const { coordination, secrets, store, clock, leaseTiming } = this.options;
      // Without coordination the caller runs a single window (tests, tools): nobody to keep out.
      if (!coordination) return undefined;
      const presence = await coordination.machinePresence(secrets);
      return { presence, lease: new RefreshLease(secrets, `${store.key}.refresh-lease`, presence.machineId, clock, leaseTiming) };
    })();
    return this.crossMachine;
  }

  private async refreshNow(session: StoredSession, stale: Staleness, lock: SessionLock, afterRotation = false): Promise<StoredSession | undefined> {
    const { client, store, logger, redactor } = this.options;
    // Never spend a refresh token whose result could not be kept.
    if (store.ownedByNewerVersion(session.id) || !(await store.session(session.id))) return undefined;
    let result: RefreshResult;
    try {
      result = await client.refresh(session.tokens);
    } catch (error) {
      if (!isOAuthError(error, 'invalid_grant')) throw error;
      // Another window or machine may have rotated the refresh token meanwhile: look again first.
      const latest = await store.catchUp(session.id);
      if (!afterRotation && latest && !latest.removed && latest.session.tokens.refreshToken !== session.tokens.refreshToken) {
        logger.info('The refresh token was rotated by another window; using its result.');
        return stale(latest.session) ? this.refreshNow(latest.session, stale, lock, true) : latest.session;
      }
      logger.warn(`The identity provider no longer accepts the session of ${session.account.label} (${error.message}); removing it. The next request signs in again.`);
      await this.removeHolding(session.id, lock);
      return undefined;
    }
    redactor.remember(result.tokens.accessToken, result.tokens.refreshToken, result.tokens.idToken);
    if (result.subject !== undefined && session.account.id !== `${client.issuer.href}#${result.subject}`) {
      // OpenID Connect Core 12.2: a refreshed ID token names the same subject, or the tokens are not this session's.
      logger.error(`The identity provider refreshed the session of ${session.account.label} with tokens of another account; signing it out.`);
      await this.removeHolding(session.id, lock);
      await this.revokeQuietly(result.tokens);
      return undefined;
    }
    // Persist first: the identity provider has spent the old refresh token.
    let updated: StoredSession;
    try {
      updated = await store.put({ ...session, tokens: result.tokens });
    } catch (error) {
      // Signed out (or taken over by a newer version) while the request was on its way: the new
      // tokens belong to nobody now.
      logger.info(`The session of ${session.account.label} went away during its refresh (${errorText(error)}); revoking the tokens it was just given.`);
      await this.revokeQuietly(result.tokens);
      return undefined;
    }
    await this.markRevision(session.id, lock);
    if (result.idTokenProblem) logger.warn(`Refreshed the session of ${session.account.label}, but its new ID token was left out: ${result.idTokenProblem.message} The next refresh checks again.`);
    else logger.info(`Refreshed the session of ${session.account.label}.`);
    return updated;
  }

  /** Signs the session out while holding its lock (the caller holds it). */
  async removeHolding(sessionId: string, lock: SessionLock): Promise<StoredSession | undefined> {
    const removed = await this.options.store.remove(sessionId);
    await this.markRevision(sessionId, lock);
    return removed;
  }

  private async revokeQuietly(tokens: StoredSession['tokens']): Promise<void> {
    const [token, hint] = tokens.refreshToken ? [tokens.refreshToken, 'refresh_token' as const] : [tokens.accessToken, 'access_token' as const];
    await this.options.client.revoke(token, hint).catch((error: unknown) => this.options.logger.warn(`Could not revoke them: ${errorText(error)}`));
  }

  private async markRevision(sessionId: string, lock: SessionLock): Promise<void> {
    const revision = this.options.store.entry(sessionId)?.revision;
    if (revision !== undefined) await lock.recordRevision(revision).catch((error: unknown) => this.options.logger.warn(`Could not record the session's revision for the other windows: ${errorText(error)}`));
  }
}

const unlocked: SessionLock = { exact: false, lastRevision: async () => undefined, recordRevision: async () => undefined, writerAlive: async () => false, release: async () => undefined };

