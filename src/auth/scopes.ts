/** Scope lists compared as sets: order and duplicates never matter. */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((scope) => scope.trim()).filter(Boolean))].sort();
}

/** A session serves a request when it holds every requested scope. */
export function scopesSatisfy(sessionScopes: readonly string[], requested: readonly string[]): boolean {
  const held = new Set(sessionScopes);
  return requested.every((scope) => held.has(scope));
}

/** The scopes asked for at sign-in: the caller's plus the configured ones. */
export function signInScopes(requested: readonly string[], configured: readonly string[]): string[] {
  return normalizeScopes([...configured, ...requested]);
}
