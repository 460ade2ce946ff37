import type { DeviceCodePrompt } from '../oauth/deviceGrant.js';
import { untrustedText } from '../oauth/untrustedText.js';
import type { Translate } from './errorMessages.js';

/**
 * The texts of the sign-in notifications, without VS Code (tests call them with a plain formatter).
 * VS Code renders `[label](command:…)` in notification text as a link that runs the command, so the
 * only links here are this extension's own, and every value from outside (the identity provider's
 * user code and URLs, the issuer and client id) passes through `untrustedText`, which leaves no link
 * syntax in it.
 */

export const copyCodeCommand = 'oauthAnywhere.copyCodeAndOpenBrowser';
export const useCodeInsteadCommand = 'oauthAnywhere.useCodeInstead';
export const pasteInsteadCommand = 'oauthAnywhere.pasteResponseInstead';
export const showQrCodeCommand = 'oauthAnywhere.showQrCode';
/** Every command a sign-in notification links to: no other command may ever appear as a link in one. */
export const notificationCommands: readonly string[] = [copyCodeCommand, showQrCodeCommand, useCodeInsteadCommand, pasteInsteadCommand];

/** `command:id?["arg"]`: a command link that names its sign-in, so two sign-ins never mix up their buttons. */
export function commandUri(command: string, ...args: string[]): string {
  return `command:${command}${args.length ? `?${encodeURIComponent(JSON.stringify(args))}` : ''}`;
}

export function deviceCodeMessage(prompt: DeviceCodePrompt, links: { copy: string; qr?: string }, t: Translate): string {
  // Called as l10n.t('...'): the form scripts/l10nBundle.mjs finds for l10n/bundle.l10n.json.
  const l10n = { t };
  const qr = links.qr ? l10n.t(' · [Show QR code]({0})', links.qr) : '';
  const message = l10n.t(
    'Enter code {0} at {1} — [Copy code and open browser]({2}){3}. Requested by client "{4}" of {5}; if you did not start this sign-in, cancel it.',
    untrustedText(prompt.userCode, 64),
    untrustedText(prompt.verificationUri, 200),
    links.copy,
    qr,
    untrustedText(prompt.clientId, 100),
    untrustedText(prompt.issuer, 200),
  );
  if (!prompt.unusualUserCode) return message;
  return `${message} ${l10n.t('The identity provider sent this code with characters that sign-in codes do not have, so it is shown as plain text: check it on the sign-in page before you approve.')}`;
}

/**
 * Added to the browser notification when the browser reached this machine's /start, went on to the
 * identity provider and has not come back: the identity provider most likely refuses the redirect
 * URI and shows an error page of its own.
 */
export function redirectHint(redirectUri: string, switchLink: { kind: 'device' | 'paste'; uri: string } | undefined, t: Translate): string {
  // Called as l10n.t('...'): the form scripts/l10nBundle.mjs finds for l10n/bundle.l10n.json.
  const l10n = { t };
  const hint = l10n.t(
    'Your browser went on to the identity provider but has not come back. If it shows an error about the redirect URI, it does not accept {0}: register exactly that address for the client, or set "OAuth Anywhere: Loopback Port" to the port of the address you registered.',
    untrustedText(redirectUri, 200),
  );
  if (!switchLink) return hint;
  return `${hint} ${switchLink.kind === 'device' ? l10n.t('[Use a code instead]({0})', switchLink.uri) : l10n.t('[Paste the address instead]({0})', switchLink.uri)}`;
}

/**
 * Text from outside in a quick pick or another label that renders `$(name)` as an icon: the icon
 * syntax escaped, so it shows as typed.
 */
export function withoutIcons(text: string): string {
  return text.replace(/\$\(/g, '\\$(');
}
