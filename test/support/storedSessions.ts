// Reads what the session store wrote into (modelled) SecretStorage, for tests that check the stored
// state itself rather than what a window serves.
import { entryKeyPrefix, type StoreIdentity } from '../../src/auth/sessionStore.js';
import type { SessionEntry, StoredSession } from '../../src/auth/sessionEntry.js';

export function identityOf(issuer: string | URL, clientId: string, providerId = 'oauth-anywhere'): StoreIdentity {
  return { providerId, issuer: new URL(String(issuer)).href, clientId };
}

/** Every session entry stored for this identity, sign-out marks included. */
export function storedEntries(values: Map<string, string>, identity: StoreIdentity): SessionEntry[] {
  const prefix = entryKeyPrefix(identity);
  return [...values.entries()].filter(([key]) => key.startsWith(prefix) && !key.slice(prefix.length).includes('|')).map(([, raw]) => JSON.parse(raw) as SessionEntry);
}

/** The live sessions stored for this identity. */
export function storedSessions(values: Map<string, string>, identity: StoreIdentity): StoredSession[] {
  return storedEntries(values, identity).flatMap((entry) => (entry.removed ? [] : [entry.session]));
}

export function entryKey(identity: StoreIdentity, sessionId: string): string {
  return entryKeyPrefix(identity) + sessionId;
}
