import type { Logger } from '../oauth/types.js';
import { legacyDocumentKey, parseLegacyDocument } from './legacyDocument.js';
import { entryVersion, parseEntry, readEntry, supersedes, type LiveEntry, type SessionEntry, type StoredSession } from './sessionEntry.js';
import { errorText } from '../oauth/errors.js';

export type { StoredSession } from './sessionEntry.js';

/** The part of vscode.SecretStorage this store uses, so it runs in plain Node too. */
export interface SecretStoragePort {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
  keys(): PromiseLike<string[]>;
  onDidChange(listener: (event: { key: string }) => unknown): { dispose(): unknown };
}

export interface SessionChanges {
  added: StoredSession[];
  removed: StoredSession[];
  changed: StoredSession[];
}

export interface StoreIdentity {
  providerId: string;
  issuer: string;
  clientId: string;
}

/**
 * How the windows of one machine hand each other entries at once, whatever SecretStorage does (in
 * code-server a tab never sees another tab's writes). Optional: without it, storage is the only way.
 */
export interface EntryExchange {
  /** Hands entries to the other windows; resolves once they took them or could not be reached. */
  publish(storeKey: string, entries: readonly SessionEntry[]): Promise<void>;
  /** The entries the other windows hold for this store (unchecked: the store checks them). */
  pull(storeKey: string): Promise<unknown[]>;
  /** Serves this store's entries to the other windows and takes theirs. */
  join(storeKey: string, member: { entries(): SessionEntry[]; receive(entries: unknown[]): void }): { dispose(): void };
}

export interface SessionStoreOptions {
  exchange?: EntryExchange;
  /**
   * How long after seeing its storage fall behind (an older revision read back) this window checks
   * again and writes the newer entry there if it still lags. Longer than desktop storage takes to
   * propagate, so that a write merely on its way is not answered with another.
   */
  reconcileDelayMs?: number;
  now?: () => number;
}

/** Sign-out marks older than this are deleted from storage when it is read. */
const removedEntryLifetimeMs = 30 * 24 * 3_600_000;

/**
 * The sessions of one provider + issuer + client id: one SecretStorage entry per session, so that no
 * write can touch another session's tokens. The cache holds the newest entry of every session this
 * window knows of, sign-out marks included; storage, other windows and this window's own writes all
 * go through `merge`, where the higher revision wins. Every change of the live sessions, whoever
 * caused it, is reported once through `onChange`.
 */
export class SessionStore {
  /** Names this store among the machine's windows (the exchange, the refresh locks). */
  readonly key: string;
  private readonly entryPrefix: string;
  private readonly entries = new Map<string, SessionEntry>();
  /** Sessions whose entry was written by a newer version of the extension: never touched. */
  private readonly newerIds = new Set<string>();
  private loading: Promise<void> | undefined;
  private loaded = false;
  private readonly listeners = new Set<(changes: SessionChanges) => void>();
  private readonly reconciling = new Map<string, ReturnType<typeof setTimeout>>();
  private subscription: { dispose(): unknown } | undefined;
  private membership: { dispose(): void } | undefined;
  private readonly now: () => number;

  constructor(
    private readonly secrets: SecretStoragePort,
    private readonly identity: StoreIdentity,
    private readonly logger: Logger,
    private readonly options: SessionStoreOptions = {},
  ) {
    this.key = `${identity.providerId}|${identity.issuer}|${identity.clientId}`;
    this.entryPrefix = entryKeyPrefix(identity);
    this.now = options.now ?? Date.now;
  }

  /** Follows other windows: storage change events, and entries handed over by windows of this machine. */
  watch(): { dispose(): void } {
    this.subscription ??= this.secrets.onDidChange((event) => {
      const id = this.idOf(event.key);
      if (id !== undefined && this.loaded) void this.readFromStorage(id).catch((error: unknown) => this.logger.warn(`Reading the changed session from storage failed: ${errorText(error)}`));
    });
    this.membership ??= this.options.exchange?.join(this.key, {
      entries: () => [...this.entries.values()],
      receive: (entries) => this.takeFromPeers(entries),
    });
    return { dispose: () => this.dispose() };
  }

  onChange(listener: (changes: SessionChanges) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /** The live sessions. The first call reads storage and asks the other windows; a failed read is tried again next time. */
  async all(): Promise<StoredSession[]> {
    await this.ensureLoaded();
    return [...this.entries.values()].filter(isLive).map((entry) => entry.session);
  }

  async session(id: string): Promise<StoredSession | undefined> {
    await this.ensureLoaded();
    const entry = this.entries.get(id);
    return isLive(entry) ? entry.session : undefined;
  }

  /** True when a newer version of the extension took the session over: this one neither refreshes nor writes it. */
  ownedByNewerVersion(id: string): boolean {
    return this.newerIds.has(id);
  }

  /** The newest entry this window knows of, sign-out marks included. */
  entry(id: string): SessionEntry | undefined {
    return this.entries.get(id);
  }

  /** Reads the session's entry from storage and from the other windows again: the newest wins. */
  async catchUp(id: string): Promise<SessionEntry | undefined> {
    await this.ensureLoaded();
    const [, fromPeers] = await Promise.all([this.readFromStorage(id), this.pullFromPeers()]);
    this.takeFromPeers(fromPeers);
    return this.entries.get(id);
  }

  /**
   * Stores a new revision of the session: in this window at once, then in storage and in the other
   * windows of this machine together. A failed storage write is logged and tried again; the tokens
   * are never dropped for it (they may be the only copy of a rotated refresh token).
   */
  async put(session: StoredSession): Promise<StoredSession> {
    await this.ensureLoaded();
    if (this.newerIds.has(session.id)) throw new Error('This session was written by a newer version of OAuth Anywhere and is left to it.');
    const current = this.entries.get(session.id);
    if (current?.removed) throw new Error('The session was signed out.');
    const entry: LiveEntry = { ...this.header(session.id, current), session };
    this.merge(entry);
    await this.persist(entry);
    return session;
  }

  /** Marks the session signed out here, in storage and in the other windows; resolves with what it was. */
  async remove(id: string): Promise<StoredSession | undefined> {
    await this.ensureLoaded();
    if (this.newerIds.has(id)) return undefined;
    const current = this.entries.get(id);
    if (!current || current.removed) return undefined;
    const entry: SessionEntry = { ...this.header(id, current), removed: true };
    this.merge(entry);
    await this.persist(entry);
    return current.session;
  }

  dispose(): void {
    this.subscription?.dispose();
    this.subscription = undefined;
    this.membership?.dispose();
    this.membership = undefined;
    for (const timer of this.reconciling.values()) clearTimeout(timer);
    this.reconciling.clear();
    this.listeners.clear();
  }

  private header(id: string, current: SessionEntry | undefined) {
    return { version: entryVersion, id, issuer: this.identity.issuer, clientId: this.identity.clientId, revision: (current?.revision ?? 0) + 1, updatedAt: this.now() } as const;
  }

  private async persist(entry: SessionEntry): Promise<void> {
    await Promise.all([
      Promise.resolve(this.writeToStorage(entry)).catch((error: unknown) => {
        this.logger.warn(`Could not save the session to SecretStorage (${errorText(error)}); keeping it in this window and trying again.`);
        this.scheduleReconcile(entry.id);
      }),
      this.options.exchange?.publish(this.key, [entry]).catch((error: unknown) => this.logger.debug(`Handing the session to the other windows failed: ${errorText(error)}`)),
    ]);
  }

  private writeToStorage(entry: SessionEntry): PromiseLike<void> {
    return this.secrets.store(this.entryPrefix + entry.id, JSON.stringify(entry));
  }

  private ensureLoaded(): Promise<void> {
    if (this.loaded) return Promise.resolve();
    this.loading ??= this.load().then(
      () => {
        this.loaded = true;
      },
      (error: unknown) => {
        // Not cached: the next call reads again.
        this.loading = undefined;
        throw error;
      },
    );
    return this.loading;
  }

  private async load(): Promise<void> {
    const keys = await this.secrets.keys();
    const legacyKey = legacyDocumentKey(this.identity.providerId, this.identity);
    const [fromPeers] = await Promise.all([
      this.pullFromPeers(),
      ...keys.filter((key) => this.idOf(key) !== undefined).map((key) => this.readFromStorage(this.idOf(key)!, true)),
    ]);
    if (keys.includes(legacyKey)) await this.migrateLegacy(legacyKey);
    this.takeFromPeers(fromPeers, true);
  }

  /** Moves the sessions of a 0.1 document to entries of their own, then deletes the document. */
  private async migrateLegacy(legacyKey: string): Promise<void> {
    const raw = await this.secrets.get(legacyKey);
    if (raw === undefined) return;
    const parsed = parseLegacyDocument(raw, this.identity);
    if (parsed.kind === 'newer') {
      this.logger.info(`Left the sessions under "${legacyKey}" alone: a newer version of OAuth Anywhere wrote them.`);
      return;
    }
    if (parsed.kind === 'unreadable') {
      await this.setAside(legacyKey, raw, parsed.reason);
      return;
    }
    const moved = parsed.sessions.filter((session) => !this.entries.has(session.id));
    for (const session of moved) {
      const entry: LiveEntry = { ...this.header(session.id, undefined), session };
      this.merge(entry, true);
      await this.writeToStorage(entry);
    }
    await this.secrets.delete(legacyKey);
    this.logger.info(`Moved ${moved.length} session(s) to one SecretStorage entry each${parsed.dropped ? `; ${parsed.dropped} unreadable one(s) dropped` : ''}.`);
  }

  private async readFromStorage(id: string, loading = false): Promise<void> {
    const key = this.entryPrefix + id;
    const raw = await this.secrets.get(key);
    if (raw === undefined) {
      // Deleted behind our back (another tool, or an older version): storage lags what we know.
      const known = this.entries.get(id);
      if (known && !this.expiredMark(known)) this.scheduleReconcile(id);
      return;
    }
    const parsed = parseEntry(raw, this.identity, id);
    if (parsed.kind === 'newer') {
      if (!this.newerIds.has(id)) this.logger.info(`Left session ${id} alone: a newer version of OAuth Anywhere (format ${parsed.version}) wrote it. Update OAuth Anywhere everywhere to share it.`);
      this.leaveToNewerVersion(id);
      return;
    }
    if (parsed.kind === 'unreadable') {
      await this.setAside(key, raw, parsed.reason);
      // This window still holds a good copy (garbage was written over it): put it back.
      if (this.entries.has(id)) this.scheduleReconcile(id);
      return;
    }
    const { entry } = parsed;
    if (this.expiredMark(entry)) {
      this.entries.delete(id);
      await this.secrets.delete(key);
      return;
    }
    if (!this.merge(entry, loading) && supersedes(this.entries.get(id)!, entry)) {
      // Storage holds an older revision than this window (a late write of another window, or a
      // code-server tab writing its stale copy back): put the newer one back.
      this.scheduleReconcile(id);
    }
  }

  private async pullFromPeers(): Promise<unknown[]> {
    if (!this.options.exchange) return [];
    try {
      return await this.options.exchange.pull(this.key);
    } catch (error) {
      this.logger.debug(`Asking the other windows for their sessions failed: ${errorText(error)}`);
      return [];
    }
  }

  private takeFromPeers(entries: unknown[], loading = false): void {
    for (const value of entries) {
      const parsed = readEntry(value, this.identity);
      if (parsed.kind !== 'entry') continue;
      if (this.newerIds.has(parsed.entry.id)) continue;
      if (!this.merge(parsed.entry, loading)) continue;
      // Storage may never hear of it (code-server tabs never share their writes, and each writes its
      // whole copy back): this window's storage gets it now, so that whatever it writes next carries
      // the newest tokens. On the desktop this may write what is already on its way: the same value.
      const { id } = parsed.entry;
      void this.reconcile(id).catch((error: unknown) => {
        this.logger.warn(`Could not save the session to SecretStorage (${errorText(error)}); trying again.`);
        this.scheduleReconcile(id);
      });
    }
  }

  /**
   * Takes `entry` when it is newer than what this window holds, and reports the change of live
   * sessions (not while loading: the first read is not a change). Returns whether it was taken.
   */
  private merge(entry: SessionEntry, loading = false): boolean {
    const previous = this.entries.get(entry.id);
    if (!supersedes(entry, previous)) return false;
    this.entries.set(entry.id, entry);
    if (loading && !this.loaded) return true;
    const before = isLive(previous) ? previous.session : undefined;
    const after = isLive(entry) ? entry.session : undefined;
    const changes: SessionChanges = { added: [], removed: [], changed: [] };
    if (before && !after) changes.removed.push(before);
    else if (!before && after) changes.added.push(after);
    else if (before && after && JSON.stringify(before) !== JSON.stringify(after)) changes.changed.push(after);
    else return true;
    for (const listener of this.listeners) listener(changes);
    return true;
  }

  private expiredMark(entry: SessionEntry): boolean {
    return !!entry.removed && this.now() - entry.updatedAt > removedEntryLifetimeMs;
  }

  private leaveToNewerVersion(id: string): void {
    this.newerIds.add(id);
    const previous = this.entries.get(id);
    this.entries.delete(id);
    if (isLive(previous) && this.loaded) for (const listener of this.listeners) listener({ added: [], removed: [previous.session], changed: [] });
  }

  /** After a while, writes this window's entry to its storage if storage still holds an older one. */
  private scheduleReconcile(id: string): void {
    if (this.reconciling.has(id)) return;
    const timer = setTimeout(() => {
      this.reconciling.delete(id);
      void this.reconcile(id).catch((error: unknown) => {
        this.logger.warn(`Could not save the session to SecretStorage (${errorText(error)}); trying again.`);
        this.scheduleReconcile(id);
      });
    }, this.options.reconcileDelayMs ?? 1_000);
    timer.unref?.();
    this.reconciling.set(id, timer);
  }

  private async reconcile(id: string): Promise<void> {
    const mine = this.entries.get(id);
    if (!mine || this.newerIds.has(id) || this.expiredMark(mine)) return;
    const raw = await this.secrets.get(this.entryPrefix + id);
    const stored = raw === undefined ? undefined : parseEntry(raw, this.identity, id);
    if (stored?.kind === 'newer') return;
    if (stored?.kind === 'entry' && !supersedes(mine, stored.entry)) return;
    await this.writeToStorage(mine);
  }

  /**
   * Data that cannot be read is kept under a side key for diagnosis, then removed from its place: the
   * user signs in again instead of facing an error they cannot fix.
   */
  private async setAside(key: string, raw: string, reason: string): Promise<void> {
    const asideKey = `${this.identity.providerId}.unreadable:${key}`;
    try {
      await this.secrets.store(asideKey, raw);
      await this.secrets.delete(key);
      this.logger.warn(`A stored session could not be read (${reason}); kept it under "${asideKey}" and went on without it.`);
    } catch (error) {
      // Never served either way; setting it aside is only for diagnosis and may wait for the next read.
      this.logger.warn(`A stored session could not be read (${reason}), nor set aside (${errorText(error)}); went on without it.`);
    }
  }

  private idOf(key: string): string | undefined {
    if (!key.startsWith(this.entryPrefix)) return undefined;
    const id = key.slice(this.entryPrefix.length);
    return id && !id.includes('|') ? id : undefined;
  }
}

/** Every session entry of a provider + issuer + client id is stored under this prefix and the session id. */
export function entryKeyPrefix(identity: StoreIdentity): string {
  return `${identity.providerId}.session:${identity.issuer}|${identity.clientId}|`;
}

function isLive(entry: SessionEntry | undefined): entry is LiveEntry {
  return !!entry && !entry.removed;
}

