import { OAuthError } from './errors.js';
import { isAllowedEndpointUrl } from './loopbackAddress.js';
import { untrustedText } from './untrustedText.js';

/** The issuer as a URL, or an OAuthError('settings') that says how to fix the setting. */
export function parseIssuer(value: string): URL {
  const text = value.trim();
  if (!text) throw new OAuthError('settings', 'No issuer is set. Set it to your identity provider\'s issuer URL, e.g. https://login.example.com.');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OAuthError('settings', `The issuer "${text}" is not a URL. Set it to your identity provider's issuer URL, e.g. https://login.example.com.`);
  }
  if (!isAllowedEndpointUrl(url)) {
    throw new OAuthError('settings', `The issuer ${url.href} must use HTTPS. Plain http is only allowed for loopback addresses (127.0.0.0/8, localhost, [::1]).`);
  }
  if (url.search || url.hash) throw new OAuthError('settings', `The issuer ${url.href} must not have a query or fragment.`);
  return url;
}

/**
 * An endpoint URL (from settings or discovery), held to the same HTTPS rule as the issuer. A bad one
 * in the settings is a settings problem; one in the identity provider's own metadata is `unsafe_url`.
 */
export function parseEndpoint(name: string, value: string, source = 'oauthAnywhere.endpoints', reason: 'settings' | 'unsafe_url' = 'settings'): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OAuthError(reason, `${name} in ${source} is not a URL: "${untrustedText(value, 120)}".`);
  }
  if (!isAllowedEndpointUrl(url)) {
    throw new OAuthError(reason, `${name} in ${source} must use HTTPS (plain http only on loopback): ${untrustedText(`${url.origin}${url.pathname}`, 120)}.`);
  }
  return url;
}

/**
 * A URL from the identity provider that the extension opens in a browser (verification_uri,
 * end_session_endpoint): https, or http on a loopback host, like every endpoint. Anything else
 * (javascript:, file:, command:, plain http to another machine) is refused, naming only its scheme
 * and host.
 */
export function openableUrl(value: unknown, name: string): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) throw new OAuthError('unsafe_url', `Its ${name} is not a URL ("${untrustedText(String(value), 80)}").`);
  if (!isAllowedEndpointUrl(url)) {
    const where = url.host ? `${url.protocol}//${url.host}` : url.protocol;
    throw new OAuthError('unsafe_url', `Its ${name} is ${untrustedText(where, 80)}, not https.`);
  }
  return url;
}
