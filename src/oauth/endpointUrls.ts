import { OAuthError } from './errors.js';
import { isAllowedEndpointUrl } from './loopbackAddress.js';

/** The issuer as a URL, or an OAuthError('misconfigured') that says how to fix the setting. */
export function parseIssuer(value: string): URL {
  const text = value.trim();
  if (!text) throw new OAuthError('misconfigured', 'No issuer is set. Set it to your identity provider\'s issuer URL, e.g. https://login.example.com.');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OAuthError('misconfigured', `The issuer "${text}" is not a URL. Set it to your identity provider's issuer URL, e.g. https://login.example.com.`);
  }
  if (!isAllowedEndpointUrl(url)) {
    throw new OAuthError('misconfigured', `The issuer ${url.href} must use HTTPS. Plain http is only allowed for loopback addresses (127.0.0.0/8, localhost, [::1]).`);
  }
  if (url.search || url.hash) throw new OAuthError('misconfigured', `The issuer ${url.href} must not have a query or fragment.`);
  return url;
}

/** An endpoint URL (from settings or discovery), held to the same HTTPS rule as the issuer. */
export function parseEndpoint(name: string, value: string, source = 'oauthAnywhere.endpoints'): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OAuthError('misconfigured', `${name} in ${source} is not a URL: "${value}".`);
  }
  if (!isAllowedEndpointUrl(url)) {
    throw new OAuthError('misconfigured', `${name} in ${source} must use HTTPS (plain http only on loopback): ${url.origin}${url.pathname}.`);
  }
  return url;
}
