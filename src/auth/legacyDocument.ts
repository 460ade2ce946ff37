import { isRecord, isStoredSession, type EntryOwner, type StoredSession } from './sessionEntry.js';

/**
 * Versions up to 0.1 kept all sessions of a provider in one document under one key; every write
 * rewrote all of them, so two windows refreshing two sessions lost one's rotated token. Read once to
 * move each session to its own entry, then deleted.
 */
export function legacyDocumentKey(providerId: string, owner: EntryOwner): string {
  return `${providerId}.sessions:${owner.issuer}|${owner.clientId}`;
}

export type LegacyDocument =
  | { kind: 'sessions'; sessions: StoredSession[]; dropped: number }
  | { kind: 'newer'; version: unknown }
  | { kind: 'unreadable'; reason: string };

export function parseLegacyDocument(raw: string, owner: EntryOwner): LegacyDocument {
  let document: unknown;
  try {
    document = JSON.parse(raw);
  } catch {
    return { kind: 'unreadable', reason: 'not valid JSON' };
  }
  if (!isRecord(document)) return { kind: 'unreadable', reason: 'not a JSON object' };
  if (document.version !== 1) {
    return typeof document.version === 'number' && document.version > 1 ? { kind: 'newer', version: document.version } : { kind: 'unreadable', reason: `unknown version ${JSON.stringify(document.version)?.slice(0, 20)}` };
  }
  if (document.issuer !== owner.issuer || document.clientId !== owner.clientId) return { kind: 'unreadable', reason: 'it belongs to a different issuer or client id' };
  if (!Array.isArray(document.sessions)) return { kind: 'unreadable', reason: 'no session list' };
  const sessions = document.sessions.filter(isStoredSession);
  return { kind: 'sessions', sessions, dropped: document.sessions.length - sessions.length };
}
