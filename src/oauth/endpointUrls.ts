import { OAuthError } from './errors.js';
import { isAllowedEndpointUrl, isAllowedIdpUrl } from './loopbackAddress.js';
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
 * An endpoint URL from the settings (or a preset), held to the same HTTPS rule as the issuer; a bad
 * one is a settings problem.
 */
export function parseEndpoint(name: string, value: string, source = 'oauthAnywhere.endpoints'): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OAuthError('settings', `${name} in ${source} is not a URL: "${untrustedText(value, 120)}".`);
  }
  if (!isAllowedEndpointUrl(url)) {
    throw new OAuthError('settings', `${name} in ${source} must use HTTPS (plain http only on loopback): ${untrustedText(`${url.origin}${url.pathname}`, 120)}.`);
  }
  return url;
}

/**
 * A URL from the identity provider: an endpoint in its discovery document, or one the extension opens
 * in a browser (verification_uri, end_session_endpoint). https, or plain http on a loopback host from
 * an identity provider that is itself there (`isAllowedIdpUrl`). Anything else (javascript:, file:,
 * command:, plain http to another machine or, from an https identity provider, to this one) is
 * `unsafe_url`, naming only its scheme and host. Without `issuer` (the shell's last check before a
 * browser opens, which also opens this extension's own loopback page), plain http on loopback passes.
 */
export function openableUrl(value: unknown, name: string, issuer?: URL): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) throw new OAuthError('unsafe_url', `Its ${name} is not a URL ("${untrustedText(String(value), 80)}").`);
  if (!(issuer ? isAllowedIdpUrl(url, issuer) : isAllowedEndpointUrl(url))) {
    const where = url.host ? `${url.protocol}//${url.host}` : url.protocol;
    const loopback = isAllowedEndpointUrl(url) ? ', and plain http on this machine only comes from an identity provider that runs on it' : '';
    throw new OAuthError('unsafe_url', `Its ${name} is ${untrustedText(where, 80)}, not https${loopback}.`);
  }
  return url;
}
