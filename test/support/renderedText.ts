import assert from 'node:assert/strict';
import type { Translate } from '../../src/vscode/errorMessages.js';
import { notificationCommands } from '../../src/vscode/promptTexts.js';
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
 * Control characters, bidirectional overrides, zero-width and blank-looking characters: never shown,
 * but for the zero-width space the extension itself puts after a `]` (no link) or a `$` (no icon)
 * (src/oauth/untrustedText.ts, src/oauth/tokens.ts).
 */
// eslint-disable-next-line no-control-regex, no-misleading-character-class -- matching control and combining characters one by one is the point
export const invisibleCharacters = /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u115f\u1160\u180e\u200c-\u200f\u202a-\u202e\u2060-\u2069\u3164\ufeff\uffa0\ufff9-\ufffb\u{e0000}-\u{e007f}]|(?<![\]$])\u200b/u;

/** The command a `command:` link runs, without its arguments; undefined for any other link. */
function linkedCommand(href: string): string | undefined {
  return href.startsWith('command:') ? href.slice('command:'.length).split('?')[0] : undefined;
}

/**
 * A notification text with foreign text in it: links only to the commands the extension's own
 * notifications link to (not any `oauthAnywhere.` command: those include Sign Out), no invisible
 * characters, and no sentence said twice.
 */
export function assertPlainNotification(text: string, label: string): void {
  const foreign = notificationLinks(text).filter((href) => !notificationCommands.includes(linkedCommand(href) ?? ''));
  assert.deepEqual(foreign, [], `${label}: no link but the extension's own: ${text}`);
  assert.doesNotMatch(text, invisibleCharacters, `${label}: no control or direction characters: ${JSON.stringify(text)}`);
  assert.deepEqual(repeatedSentences(text), [], `${label}: no sentence twice: ${text}`);
}
