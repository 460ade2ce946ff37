import assert from 'node:assert/strict';
import type { Translate } from '../../src/vscode/errorMessages.js';
import { repeatedSentences } from './messages.js';

/** vscode.l10n.t's formatting without VS Code: {0}, {1}, ... replaced by the arguments. */
export const format: Translate = (message, ...args) => message.replace(/\{(\d+)\}/g, (_, index: string) => String(args[Number(index)]));

/**
 * The links VS Code makes of a notification's text: the pattern of its workbench (`parseLinkedText`,
 * read in code-server 4.139.1's bundle), nothing else in a notification is rendered.
 */
const notificationLink = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;

export function notificationLinks(text: string): string[] {
  return [...text.matchAll(notificationLink)].map((match) => match[2]!);
}

/**
 * Control characters, bidirectional overrides and zero-width characters: never shown, but for the
 * zero-width space the extension itself puts after a `]` (src/oauth/untrustedText.ts).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const invisibleCharacters = /[\u0000-\u001f\u007f-\u009f\u200c-\u200f\u202a-\u202e\u2060-\u2069\ufeff]|(?<!\])\u200b/;

/**
 * A notification text with foreign text in it: links only to this extension's own commands, no
 * invisible characters, and no sentence said twice.
 */
export function assertPlainNotification(text: string, label: string): void {
  const foreign = notificationLinks(text).filter((href) => !href.startsWith('command:oauthAnywhere.'));
  assert.deepEqual(foreign, [], `${label}: no link but the extension's own: ${text}`);
  assert.doesNotMatch(text, invisibleCharacters, `${label}: no control or direction characters: ${JSON.stringify(text)}`);
  assert.deepEqual(repeatedSentences(text), [], `${label}: no sentence twice: ${text}`);
}
