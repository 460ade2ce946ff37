import { readSettings } from '../config.js';
import type { TerminalProvider } from '../terminal/broker.js';
import { parseGitHosts } from '../terminal/gitHosts.js';
import type { ProviderRegistry } from './providerRegistry.js';

/**
 * The registered providers as terminal tools see them, read from the settings at each request. Tokens
 * come from the provider's own getSessions, so from the same refresh path and lock as every
 * getSession.
 */
export function terminalProviders(registry: ProviderRegistry): TerminalProvider[] {
  return registry.entries().map(({ definition, provider }) => {
    const settings = readSettings(definition.read);
    return {
      id: definition.id,
      label: definition.label,
      ...(settings.ok ? { issuer: settings.settings.provider.issuer, clientId: settings.settings.provider.clientId } : {}),
      defaultScopes: settings.ok ? settings.settings.provider.scopes : [],
      gitHosts: parseGitHosts(definition.read('gitHosts')).hosts,
      gitUsername: definition.read('gitUsername'),
      problem: settings.ok ? undefined : settings.problems.map((problem) => problem.message).join(' '),
      getSessions: (scopes) => provider.getSessions(scopes),
      createSession: (scopes, signal) => provider.createSession(scopes, {}, signal),
      reportRejected: (sessionId) => provider.reportRejected(sessionId),
      listSessions: () => provider.listSessions(),
      storedToken: (sessionId) => provider.storedToken(sessionId),
    };
  });
}

/** Every `gitHosts` problem of every provider, for the log. */
export function gitHostProblems(registry: ProviderRegistry): string[] {
  return registry.entries().flatMap(({ definition }) => parseGitHosts(definition.read('gitHosts')).problems.map((problem) => `${definition.label}: gitHosts: ${problem}`));
}
