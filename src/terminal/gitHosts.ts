import { domainToUnicode } from 'node:url';
import { isLoopbackHost } from '../oauth/loopbackAddress.js';
import type { GitTarget } from './protocol.js';

/** A git server whose credentials come from a provider: what git config and git's requests name it by. */
export interface GitHost {
  /** `https://git.example.com`, `https://git.example.com:8443`, `http://127.0.0.1:8080` (an international name in its xn-- form). */
  origin: string;
  protocol: 'https' | 'http';
  /** Lower case, xn-- form, with the port only when it is not the default: what git's `host` is compared with once normalised. */
  host: string;
  /**
   * The `credential.<url>` keys to configure. git matches them against a repository's URL as
   * written (it knows default ports, but not that `gít.example` is `xn--gt-nja.example`), so an
   * international name is configured in both spellings.
   */
  configOrigins: string[];
}

/**
 * One `gitHosts` entry: a host name (`git.example.com`, `git.example.com:8443`) means https; a URL
 * may say `http://` only for this machine (a local test server), because the token would otherwise
 * cross the network in clear. A path is refused: git asks helpers per host, not per repository.
 */
export function parseGitHost(entry: string): GitHost | { problem: string } {
  const text = entry.trim();
  if (!text) return { problem: 'An empty git host.' };
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return { problem: `"${text}" is not a host name or URL.` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { problem: `"${text}": git hosts are reached over https.` };
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return { problem: `"${text}": plain http would send your token unencrypted; use https (http is allowed only for this machine's own addresses).` };
  }
  if (url.username || url.password) return { problem: `"${text}": leave the user name out; it comes from the "gitUsername" setting.` };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return { problem: `"${text}": give the host only (git asks for credentials per host), e.g. "${url.host}".` };
  }
  // The URL parser keeps `*`; git would never ask about such a host, and the entry would still clear
  // the user's own helpers for it.
  if (url.hostname.includes('*')) return { problem: `"${text}": wildcards are not supported; git asks for credentials per exact host: list each one, e.g. "git.example.com".` };
  const unicodeHost = url.host.replace(url.hostname, domainToUnicode(url.hostname));
  const unicodeOrigin = `${url.protocol}//${unicodeHost}`;
  return {
    origin: url.origin,
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    host: url.host.toLowerCase(),
    configOrigins: unicodeOrigin === url.origin ? [url.origin] : [url.origin, unicodeOrigin],
  };
}

/** Every valid entry of a `gitHosts` setting value, and a problem for each invalid one. */
export function parseGitHosts(value: unknown): { hosts: GitHost[]; problems: string[] } {
  if (value === undefined || value === null) return { hosts: [], problems: [] };
  if (!Array.isArray(value)) return { hosts: [], problems: ['"gitHosts" must be a list of host names, e.g. ["git.example.com"].'] };
  const hosts: GitHost[] = [];
  const problems: string[] = [];
  for (const entry of value) {
    const parsed = typeof entry === 'string' ? parseGitHost(entry) : { problem: `${JSON.stringify(entry)} is not a host name.` };
    if ('problem' in parsed) problems.push(parsed.problem);
    else if (!hosts.some((host) => host.origin === parsed.origin)) hosts.push(parsed);
  }
  return { hosts, problems };
}

/**
 * Whether git asks about this host. git sends `host` as the repository's URL wrote it: with an
 * explicit default port (`git.example.com:443`) or an international name in Unicode; both sides are
 * compared in the URL parser's form.
 */
export function matchesGitTarget(host: GitHost, target: GitTarget): boolean {
  return host.protocol === target.protocol && host.host === normalizedHost(target);
}

function normalizedHost(target: GitTarget): string | undefined {
  try {
    const url = new URL(`${target.protocol}://${target.host}`);
    // A host that parses to something other than a bare host (`a@b`, `a/b`) is not one git would send.
    return url.username || url.password || url.pathname !== '/' ? undefined : url.host.toLowerCase();
  } catch {
    return undefined;
  }
}

/** The user name a provider's forge expects next to a token; `${account}` stands for the signed-in account. */
export function gitUsername(setting: unknown, account: string): string {
  const template = typeof setting === 'string' && setting.trim() ? setting.trim() : defaultGitUsername;
  return template.replaceAll('${account}', account);
}

/** What GitLab, Gitea and most forges take with an OAuth access token. */
export const defaultGitUsername = 'oauth2';
