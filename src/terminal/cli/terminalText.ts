/**
 * What the command prints to a terminal. Much of it comes from elsewhere: the identity provider's
 * error descriptions, account names, provider labels from the settings. A terminal acts on control
 * characters (ESC sequences move the cursor, rewrite earlier lines, make hidden links; bidi controls
 * reorder what is shown), so each one is shown as a visible escape (`\x1b`, `\u202e`) instead.
 */

// C0 controls, DEL, C1 controls (0x9b is an 8-bit CSI), and the invisible bidi and direction marks.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const controls = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// JSON.stringify escapes C0 itself; the rest must be escaped in the JSON text, which stays the same value.
const jsonControls = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** One line of text, safe to print: every control character (line breaks too) made visible. */
export function printable(text: string): string {
  return text.replace(controls, (character) => {
    const code = character.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** JSON for a terminal: the same value as JSON.stringify's, with no raw control character in the text. */
export function printableJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(jsonControls, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * An access token is printable ASCII by definition (RFC 6749, appendix A.12: 1*VSCHAR); one with
 * anything else did not come from a working identity provider and is not printed raw.
 */
export function isPrintableToken(token: string): boolean {
  return /^[\u0020-\u007e]+$/.test(token);
}
