import { listedStrings } from '../oauth/metadataLists.js';
import { untrustedText } from '../oauth/untrustedText.js';

/**
 * Text the report did not write itself (the identity provider's metadata and errors, settings, the
 * environment) as Markdown inline code: one line, shown as it came, and nothing in it rendered (no
 * link, image, HTML, emphasis or section), in VS Code's Markdown preview and in the ticket it is
 * pasted into alike. A fence longer than any run of backticks inside keeps the span closed. The text
 * is `untrustedText` too, so no link syntax is left in it even for a reader that finds links in the
 * Markdown source (an editor's link detection).
 */
export function inlineCode(text: string, maxLength = 300): string {
  const line = untrustedText(text, maxLength);
  if (!line) return '(empty)';
  const longestRun = Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  // A span that starts or ends with a backtick needs a space inside, which Markdown then removes.
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${line}${pad}${fence}`;
}

/** A list from the identity provider's metadata: each string as inline code; a field that is no list said to be ignored. */
export function inlineCodeList(value: unknown): string {
  if (value === undefined) return 'not listed';
  const items = listedStrings(value);
  if (!items) return 'not a list (ignored)';
  return items.length ? items.map((item) => inlineCode(item, 100)).join(', ') : 'none';
}
