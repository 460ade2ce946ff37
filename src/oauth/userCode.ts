/**
 * A user code as people type them (RFC 8628 6.1): letters and digits of any script, with spaces,
 * dashes, dots or underscores between groups, at most 64 characters ("WDJB-MJHT", "123 456"). A code
 * like that is shown exactly as sent. Anything else (brackets, parentheses, colons, control
 * characters) is no code a person would type; it is still shown, but only as neutralized text
 * (src/oauth/untrustedText.ts), with a warning.
 */
const plainUserCode = /^[\p{L}\p{N}](?:[\p{L}\p{N} ._-]{0,62}[\p{L}\p{N}])?$/u;

export function isPlainUserCode(code: string): boolean {
  return plainUserCode.test(code);
}
