import type { TokenSet } from '../oauth/types.js';

/** One signed-in session as the provider keeps it. */
export interface StoredSession {
  id: string;
  account: { id: string; label: string };
  /** The scopes the identity provider granted (sorted, unique): what getSessions matches against. */
  scopes: string[];
  tokens: TokenSet;
  createdAt: number;
}

export const entryVersion = 2;

/**
 * One session's SecretStorage entry: the session, or the mark that it was signed out (kept, so that a
 * window that has not heard of the sign-out yet cannot bring the session back). `revision` grows by
 * one with every write of the session; of two entries for one session, the higher revision is the
 * newer, wherever it came from (this window, storage, another window).
 */
export type SessionEntry = LiveEntry | RemovedEntry;

interface EntryHeader {
  version: typeof entryVersion;
  id: string;
  issuer: string;
  clientId: string;
  revision: number;
  updatedAt: number;
}
export interface LiveEntry extends EntryHeader {
  removed?: undefined;
  session: StoredSession;
}
export interface RemovedEntry extends EntryHeader {
  removed: true;
}

export type ParsedEntry =
  | { kind: 'entry'; entry: SessionEntry }
  /** Written by a newer version of this extension (a remote copy may be newer): left alone. */
  | { kind: 'newer'; version: number }
  | { kind: 'unreadable'; reason: string };

export interface EntryOwner {
  issuer: string;
  clientId: string;
}

/** True when `candidate` should replace `current`: a higher revision; at equal revisions a sign-out, then the later write. */
export function supersedes(candidate: SessionEntry, current: SessionEntry | undefined): boolean {
  if (!current) return true;
  if (candidate.revision !== current.revision) return candidate.revision > current.revision;
  if (!!candidate.removed !== !!current.removed) return !!candidate.removed;
  return candidate.updatedAt > current.updatedAt;
}

export function parseEntry(raw: string, owner: EntryOwner, expectedId?: string): ParsedEntry {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { kind: 'unreadable', reason: 'not valid JSON' };
  }
  return readEntry(value, owner, expectedId);
}

/** Checks an entry that arrived already parsed (from another window). */
export function readEntry(value: unknown, owner: EntryOwner, expectedId?: string): ParsedEntry {
  if (!isRecord(value)) return { kind: 'unreadable', reason: 'not a JSON object' };
  if (typeof value.version === 'number' && Number.isInteger(value.version) && value.version > entryVersion) return { kind: 'newer', version: value.version };
  if (value.version !== entryVersion) return { kind: 'unreadable', reason: `unknown version ${JSON.stringify(value.version)?.slice(0, 20)}` };
  if (value.issuer !== owner.issuer || value.clientId !== owner.clientId) return { kind: 'unreadable', reason: 'it belongs to a different issuer or client id' };
  if (typeof value.id !== 'string' || (expectedId !== undefined && value.id !== expectedId)) return { kind: 'unreadable', reason: 'its id does not match its key' };
  if (!isCount(value.revision) || typeof value.updatedAt !== 'number') return { kind: 'unreadable', reason: 'no revision' };
  if (value.removed === true) return { kind: 'entry', entry: value as unknown as RemovedEntry };
  if (!isStoredSession(value.session) || value.session.id !== value.id) return { kind: 'unreadable', reason: 'the session in it is incomplete' };
  return { kind: 'entry', entry: value as unknown as LiveEntry };
}

export function isStoredSession(value: unknown): value is StoredSession {
  if (!isRecord(value) || typeof value.id !== 'string' || !isRecord(value.account) || !isRecord(value.tokens)) return false;
  const { account, tokens } = value;
  return (
    typeof account.id === 'string' &&
    typeof account.label === 'string' &&
    isStringList(value.scopes) &&
    typeof value.createdAt === 'number' &&
    typeof tokens.accessToken === 'string' &&
    typeof tokens.tokenType === 'string' &&
    // Expiry is judged from these: a missing one would make an expired token look fresh forever.
    Number.isFinite(tokens.obtainedAt) &&
    (tokens.expiresAt === undefined || Number.isFinite(tokens.expiresAt)) &&
    (tokens.refreshToken === undefined || typeof tokens.refreshToken === 'string') &&
    (tokens.idToken === undefined || typeof tokens.idToken === 'string') &&
    isStringList(tokens.scopes)
  );
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
