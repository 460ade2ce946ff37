import { escapeHtml } from '../oauth/callbackPages.js';
import type { DeviceCodePrompt } from '../oauth/deviceGrant.js';
import { untrustedText } from '../oauth/untrustedText.js';
import type { Translate } from './errorMessages.js';

export interface DeviceCodePageInput {
  prompt: DeviceCodePrompt;
  /** The QR code's SVG markup (from qrCode.ts), of verification_uri_complete, else verification_uri. */
  qrSvg: string;
  /** Fresh for every page: the only style allowed to apply. */
  nonce: string;
  now: number;
  t: Translate;
}

/** The address the QR code carries: with the code in it when the IdP offers that, so no typing at all. */
export function qrTarget(prompt: DeviceCodePrompt): string {
  return prompt.verificationUriComplete ?? prompt.verificationUri;
}

/**
 * The webview page of a device sign-in: the QR code, the code in large type, where to enter it, and
 * who asks (so a code nobody started is spotted). No script; the policy allows nothing but the one
 * nonce'd style block, and the SVG is inline, so not even images load.
 */
export function deviceCodePage({ prompt, qrSvg, nonce, now, t }: DeviceCodePageInput): string {
  // Called as l10n.t('...'): the form scripts/l10nBundle.mjs finds for l10n/bundle.l10n.json.
  const l10n = { t };
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'`;
  const minutes = Math.max(0, Math.round((prompt.expiresAt - now) / 60_000));
  const scan = prompt.verificationUriComplete
    ? l10n.t('Scan with your phone’s camera: it opens the sign-in page with the code filled in.')
    : l10n.t('Scan with your phone’s camera to open the sign-in page, then enter the code below.');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(l10n.t('Sign-in code'))}</title>
<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); background: var(--vscode-editor-background); display: flex; justify-content: center; }
  main { max-width: 36rem; text-align: center; padding: 1.5rem; }
  .qr { background: #fff; display: inline-block; padding: 0.5rem; border-radius: 0.5rem; }
  .qr svg { width: min(60vmin, 18rem); height: auto; display: block; }
  .code { font-family: var(--vscode-editor-font-family, monospace); font-size: 3rem; font-weight: 700; letter-spacing: 0.15em; margin: 1rem 0 0.25rem; user-select: all; }
  .where { font-size: 1.1rem; word-break: break-all; user-select: all; }
  .who { color: var(--vscode-descriptionForeground); margin-top: 1.5rem; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(l10n.t('Sign in on your phone'))}</h1>
<p>${escapeHtml(scan)}</p>
<div class="qr" role="img" aria-label="${escapeHtml(l10n.t('QR code of {0}', qrTarget(prompt)))}">${qrSvg}</div>
<p id="user-code" class="code">${escapeHtml(untrustedText(prompt.userCode, 64))}</p>
<p class="where">${escapeHtml(l10n.t('Or open {0} on any device and enter this code.', prompt.verificationUri))}</p>
<p class="who">${escapeHtml(l10n.t('Requested by client "{0}" of {1}; the code expires in about {2} minutes. If you did not start this sign-in, cancel it in VS Code.', prompt.clientId, prompt.issuer, minutes))}</p>
</main>
</body>
</html>`;
}
