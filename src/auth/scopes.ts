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

/** OpenID Connect's own scopes: some providers (Microsoft Entra ID) leave them out of the token answer's `scope`. */
const openIdScopes = ['openid', 'profile', 'email', 'address', 'phone'];

/**
 * The scopes a new session holds: every requested scope the identity provider did not decline, plus
 * whatever else it says it granted. `tokens.scopes` is the token answer's `scope` (or the request,
 * when the answer had none: RFC 6749 5.1). A requested scope counts as granted when it is listed as
 * such or in a provider's long form (Google: `…/auth/userinfo.email` for `email`; Entra:
 * `https://graph.microsoft.com/User.Read` for `User.Read`); an Entra `/.default` scope when anything
 * was granted; `openid` when an ID token came back;
 * `offline_access` when a refresh token did; and OpenID Connect's scopes when the answer lists none of
 * them at all (the provider does not report them). So a scope declined at a per-scope consent
 * screen is not claimed by the session, and a consumer asking for it signs in again.
 */
export function grantedScopes(requested: readonly string[], tokens: { scopes: readonly string[]; idToken?: string; refreshToken?: string }): string[] {
  const granted = normalizeScopes(tokens.scopes);
  // A resource-qualified form (`…/User.Read`) stands for any scope; Google's `…/userinfo.email` form
  // only for OpenID Connect's own scopes, so that `repo.read` never passes for `read`.
  const listed = (scope: string) =>
    granted.some((entry) => entry === scope || entry.endsWith(`/${scope}`) || (openIdScopes.includes(scope) && entry.endsWith(`.${scope}`)));
  const reportsOpenIdScopes = openIdScopes.some(listed);
  const kept = requested.filter((scope) => {
    if (listed(scope)) return true;
    // Entra ID's `<API>/.default` asks for whatever the API was granted: it is answered with those permissions, never by name.
    if (scope === '.default' || scope.endsWith('/.default')) return granted.length > 0;
    if (scope === 'openid') return !!tokens.idToken;
    if (scope === 'offline_access') return !!tokens.refreshToken;
    return openIdScopes.includes(scope) && !reportsOpenIdScopes;
  });
  return normalizeScopes([...kept, ...granted]);
}
