import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The pages the browser shows after the redirect. They carry a message, never a code or token. */
export interface CallbackPages {
  success(accountLabel: string): string;
  failure(message: string): string;
}

/** Reads `callback-success.html` and `callback-failure.html` from the media folder once. */
export function loadCallbackPages(mediaDir: string): CallbackPages {
  const success = readFileSync(join(mediaDir, 'callback-success.html'), 'utf8');
  const failure = readFileSync(join(mediaDir, 'callback-failure.html'), 'utf8');
  return {
    success: (label) => success.replaceAll('{{message}}', escapeHtml(label)),
    failure: (message) => failure.replaceAll('{{message}}', escapeHtml(message)),
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
