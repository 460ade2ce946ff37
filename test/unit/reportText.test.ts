import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import MarkdownIt from 'markdown-it';
import { inlineCode, inlineCodeList } from '../../src/diagnostics/reportText.js';

const rendered = (markdown: string) => new MarkdownIt({ html: true, linkify: true }).render(markdown).trim();

describe('inlineCode: outside text in the troubleshooting report', () => {
  test('shown exactly as it came, on one line, with nothing in it rendered', () => {
    for (const [text, shown] of [
      ['[a](command:x) <b>b</b> **c** https://evil.example', '[a]\u200b(command:x) &lt;b&gt;b&lt;/b&gt; **c** https://evil.example'],
      ['a `b` c', 'a `b` c'],
      ['`edge`', '`edge`'],
      ['``double``', '``double``'],
      ['line\n\n## heading\r\n- item', 'line ## heading - item'],
    ]) {
      assert.equal(rendered(`- ${inlineCode(text!)}`), `<ul>\n<li><code>${shown}</code></li>\n</ul>`, text);
    }
  });

  test('empty text says so; lists take strings only', () => {
    assert.equal(inlineCode(' \u200b '), '(empty)');
    assert.equal(inlineCodeList(['S256', 7, 'plain']), '`S256`, `plain`');
    assert.equal(inlineCodeList('S256'), 'not a list (ignored)');
    assert.equal(inlineCodeList(undefined), 'not listed');
  });
});
