import type { Logger, TokenSet } from '../oauth/types.js';

/** The part of vscode.SecretStorage this store uses, so it runs in plain Node too. */
export interface SecretStoragePort {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
  keys(): PromiseLike<string[]>;
  onDidChange(listener: (event: { key: string }) => unknown): { dispose(): unknown };
}

export interface StoredSession {
  id: string;
  account: { id: string; label: string };
  /** The scopes the session was signed in for (sorted, unique): what getSessions matches against. */
  scopes: string[];
  tokens: TokenSet;
  createdAt: number;
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

const documentVersion = 1;

interface SessionDocument {
  version: typeof documentVersion;
  issuer: string;
  clientId: string;
  sessions: StoredSession[];
}

/**
 * All sessions of one provider + issuer + client id, as one versioned JSON document under one
 * SecretStorage key. Reads are cached: after the first, storage is read again only when it changed
 * (another window wrote) or right before a write, so a write never undoes another window's. Every
 * change of the cached list, whoever caused it, is reported once through `onChange`.
 */
export class SessionStore {
  readonly key: string;
  private cache: StoredSession[] | undefined;
  private loading: Promise<StoredSession[]> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(changes: SessionChanges) => void>();
  private subscription: { dispose(): unknown } | undefined;

  constructor(
    private readonly secrets: SecretStoragePort,
    private readonly identity: StoreIdentity,
    private readonly logger: Logger,
  ) {
    this.key = storageKey(identity);
  }

  /** Reacts to writes from other windows (VS Code fires for our own writes too; those diff to nothing). */
  watch(): { dispose(): void } {
    this.subscription ??= this.secrets.onDidChange((event) => {
      if (event.key === this.key && this.cache !== undefined) void this.reload().catch((error: unknown) => this.logger.error(`Reloading sessions failed: ${String(error)}`));
    });
    return { dispose: () => this.dispose() };
  }

  onChange(listener: (changes: SessionChanges) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /** The cached sessions; the first call reads storage (once, however many callers wait). */
  async all(): Promise<readonly StoredSession[]> {
    if (this.cache) return this.cache;
    this.loading ??= this.read().then((sessions) => {
      this.cache ??= sessions;
      return this.cache;
    });
    return this.loading;
  }

  /** Reads storage again and reports what changed since the cache. */
  reload(): Promise<readonly StoredSession[]> {
    return this.serialized(async () => this.replace(await this.read()));
  }

  /** Re-reads, applies `change` to the fresh list and writes it back, in one queued step. */
  update(change: (sessions: StoredSession[]) => StoredSession[]): Promise<readonly StoredSession[]> {
    return this.serialized(async () => {
      const fresh = await this.read();
      const next = change(fresh.map((session) => ({ ...session })));
      const document: SessionDocument = { version: documentVersion, issuer: this.identity.issuer, clientId: this.identity.clientId, sessions: next };
      if (next.length === 0) await this.secrets.delete(this.key);
      else await this.secrets.store(this.key, JSON.stringify(document));
      return this.replace(next);
    });
  }

  dispose(): void {
    this.subscription?.dispose();
    this.subscription = undefined;
    this.listeners.clear();
  }

  private replace(next: StoredSession[]): readonly StoredSession[] {
    const previous = this.cache ?? [];
    this.cache = next;
    const changes = diff(previous, next);
    if (changes.added.length || changes.removed.length || changes.changed.length) {
      for (const listener of this.listeners) listener(changes);
    }
    return next;
  }

  private serialized<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(): Promise<StoredSession[]> {
    const raw = await this.secrets.get(this.key);
    if (raw === undefined) return [];
    const parsed = parseDocument(raw, this.identity);
    if (typeof parsed === 'string') {
      await this.setAside(raw, parsed);
      return [];
    }
    if (parsed.dropped) this.logger.warn(`Skipped ${parsed.dropped} unreadable session(s) in ${this.key}; the others are intact.`);
    return parsed.sessions;
  }

  /**
   * An unreadable document is kept under a side key for diagnosis and then treated as empty: the
   * user signs in again instead of facing an error they cannot fix.
   */
  private async setAside(raw: string, reason: string): Promise<void> {
    const asideKey = `${this.key}.unreadable`;
    this.logger.warn(`The stored sessions could not be read (${reason}); kept them under "${asideKey}" and started with none.`);
    await this.secrets.store(asideKey, raw);
    await this.secrets.delete(this.key);
  }
}

export function storageKey(identity: StoreIdentity): string {
  return `${identity.providerId}.sessions:${identity.issuer}|${identity.clientId}`;
}

function parseDocument(raw: string, identity: StoreIdentity): { sessions: StoredSession[]; dropped: number } | string {
  let document: unknown;
  try {
    document = JSON.parse(raw);
  } catch {
    return 'not valid JSON';
  }
  if (!isRecord(document)) return 'not a JSON object';
  if (document.version !== documentVersion) return `unknown version ${JSON.stringify(document.version)?.slice(0, 20)}`;
  if (document.issuer !== identity.issuer || document.clientId !== identity.clientId) return 'it belongs to a different issuer or client id';
  if (!Array.isArray(document.sessions)) return 'no session list';
  const sessions = document.sessions.filter(isStoredSession);
  return { sessions, dropped: document.sessions.length - sessions.length };
}

function isStoredSession(value: unknown): value is StoredSession {
  if (!isRecord(value) || typeof value.id !== 'string' || !isRecord(value.account) || !isRecord(value.tokens)) return false;
  const { account, tokens } = value;
  return (
    typeof account.id === 'string' &&
    typeof account.label === 'string' &&
    Array.isArray(value.scopes) &&
    value.scopes.every((scope) => typeof scope === 'string') &&
    typeof tokens.accessToken === 'string' &&
    (tokens.expiresAt === undefined || typeof tokens.expiresAt === 'number') &&
    (tokens.refreshToken === undefined || typeof tokens.refreshToken === 'string')
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function diff(previous: readonly StoredSession[], next: readonly StoredSession[]): SessionChanges {
  const before = new Map(previous.map((session) => [session.id, session]));
  const after = new Map(next.map((session) => [session.id, session]));
  return {
    added: next.filter((session) => !before.has(session.id)),
    removed: previous.filter((session) => !after.has(session.id)),
    changed: next.filter((session) => before.has(session.id) && JSON.stringify(before.get(session.id)) !== JSON.stringify(session)),
  };
}
