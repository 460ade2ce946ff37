import { isIP } from 'node:net';

/**
 * True for hosts that can only be this machine: all of 127.0.0.0/8 (the e2e IdP lives on 127.0.0.2
 * because code-server rewrites URLs on 127.0.0.1), `localhost` and `[::1]`. Plain http is allowed only
 * for these, so development identity providers work without opening a hole for real ones.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** http(s) URL check shared by the issuer and every explicit endpoint. */
export function isAllowedEndpointUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

/**
 * A URL the identity provider sent (its metadata, a verification URI): https, or plain http on a
 * loopback host only when the identity provider is itself plain http on a loopback host (one for
 * development). An https identity provider has no reason to send the browser, or an ID token, to a
 * port on the user's own machine, where anything may listen.
 */
export function isAllowedIdpUrl(url: URL, issuer: URL): boolean {
  if (url.protocol === 'https:') return true;
  return isAllowedEndpointUrl(url) && issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
}
