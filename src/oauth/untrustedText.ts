import { redactSecretShapes } from './redact.js';

/**
 * Text from outside (an identity provider's error description, user code, URLs and claims) on its
 * way into a message a person reads. VS Code renders `[label](command:…)` in notifications as a link
 * that runs the command, and extensions that receive our errors may show them in their own
 * notifications, so such text never carries link syntax (`withoutLinkSyntax`). Control and
 * direction-changing characters are dropped (they hide or reorder what is shown), whitespace becomes
 * single spaces, anything token-shaped is redacted, and the length is bounded.
 */
export function untrustedText(text: string, maxLength = 200): string {
  return withoutLinkSyntax(plainLine(text, maxLength));
}

/**
 * A message of mixed origin (the core's own words around quoted identity provider text) for a
 * notification that has no links of its own: like `untrustedText`, with every `](` kept apart, so
 * nothing in it is a link and "[::1]" stays as written.
 */
export function notificationText(text: string, maxLength: number): string {
  return plainLine(text, maxLength).replace(/\]\(/g, `]${linkBreak}(`);
}

function plainLine(text: string, maxLength: number): string {
  const line = redactSecretShapes(stripInvisible(text)).replace(/\s+/g, ' ').trim();
  return line.length > maxLength ? `${line.slice(0, maxLength)}…` : line;
}

/**
 * C0 and C1 controls (tab and line breaks become spaces instead), DEL, zero-width characters,
 * bidirectional overrides and isolates, and the characters that show as nothing or as a blank while
 * being no space: soft hyphen, combining grapheme joiner, Mongolian vowel separator, the Hangul
 * fillers, interlinear annotation marks and the tag characters (which can smuggle hidden ASCII).
 */
// eslint-disable-next-line no-control-regex, no-misleading-character-class -- matching control and combining characters one by one is the point
const invisible = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u00ad\u034f\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\u3164\ufeff\uffa0\ufff9-\ufffb\u{e0000}-\u{e007f}]/gu;

export function stripInvisible(text: string): string {
  return text.replace(invisible, '');
}

/**
 * What keeps a `]` from its `(`: a zero-width space, invisible, which no link syntax allows there
 * (VS Code's notifications, Markdown). The one invisible character these texts carry, added last.
 */
export const linkBreak = '\u200b';

/**
 * Text that can be no part of a link, and looks as it was: every `]` is followed by `linkBreak`, so it
 * can never close a link label before a `(`. An opening bracket with no closing one after it could
 * still open a label that a link following the text closes; it becomes its fullwidth look-alike.
 */
export function withoutLinkSyntax(text: string): string {
  return text.replace(/\[(?![^\]]*\])/g, '\uff3b').replace(/\]/g, `]${linkBreak}`);
}
