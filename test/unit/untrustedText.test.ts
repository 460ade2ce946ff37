import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPlainUserCode } from '../../src/oauth/userCode.js';
import { notificationText, untrustedText } from '../../src/oauth/untrustedText.js';
import { invisibleCharacters, notificationLinks } from '../support/renderedText.js';

describe('untrustedText: text from outside, as plain text', () => {
  test('no link syntax, and it looks as it was: an invisible zero-width space keeps each ] from a (', () => {
    const shown = untrustedText('[Fix](command:workbench.action.openSettings) and [x]');
    assert.equal(shown, '[Fix]\u200b(command:workbench.action.openSettings) and [x]\u200b');
    assert.deepEqual(notificationLinks(`${shown} [ours](command:oauthAnywhere.showLog)`), ['command:oauthAnywhere.showLog']);
  });

  test('an unmatched bracket cannot pair with a link that follows it: it becomes its fullwidth look-alike', () => {
    const shown = `${untrustedText('Click [here')} — [Copy code](command:oauthAnywhere.copyCodeAndOpenBrowser)`;
    assert.deepEqual(notificationLinks(shown), ['command:oauthAnywhere.copyCodeAndOpenBrowser']);
    assert.ok(shown.startsWith('Click ［here — [Copy code]('), 'the link keeps its own label');
  });

  test('control, zero-width and direction characters are dropped; whitespace is one space', () => {
    assert.equal(untrustedText('a\u0000b\u0007c\u001b[31md\u007fe\u009bf\u200bg\u202eh\u2066i\ufeffj'), 'abc［31mdefghij');
    assert.equal(untrustedText(untrustedText('[a](b)')), untrustedText('[a](b)'), 'twice is once');
    assert.equal(untrustedText('  one\n\ttwo\r\n three  '), 'one two three');
  });

  test('invisible and blank-looking characters that hide or fake text are dropped too: soft hyphen, grapheme joiner, Hangul fillers, interlinear annotations, tags', () => {
    const hidden = ['\u00ad', '\u034f', '\u115f', '\u1160', '\u3164', '\uffa0', '\u180e', '\ufff9', '\ufffa', '\ufffb', '\u{e0001}', '\u{e0041}', '\u{e007f}'];
    assert.equal(untrustedText(`ad${hidden.join('')}min`), 'admin');
    for (const character of hidden) assert.match(character, invisibleCharacters, `the tests' own check knows U+${character.codePointAt(0)!.toString(16)}`);
    assert.equal(untrustedText('Zoë 😀 日本'), 'Zoë 😀 日本', 'visible text, astral characters included, stays');
  });

  test('token-shaped text is redacted, and the length bounded', () => {
    assert.equal(untrustedText('refresh_token=rt-123456789 bad'), 'refresh_token=[redacted]\u200b bad');
    assert.equal(untrustedText('x'.repeat(300), 10), `${'x'.repeat(10)}…`);
  });

  test('notificationText leaves brackets that form no link, as in [::1]', () => {
    assert.equal(notificationText('loopback addresses (localhost, [::1]).', 100), 'loopback addresses (localhost, [::1]).');
    assert.deepEqual(notificationLinks(notificationText('see [this](https://evil.example) and [a [b](command:x)', 200)), []);
  });
});

describe('isPlainUserCode: the codes people type are shown as they are', () => {
  for (const code of ['WDJB-MJHT', 'GJ4K7DP8L', '123 456', 'abc.def_ghi', 'ÄÖÜ-ßÇ', '7']) test(`"${code}" is plain`, () => assert.equal(isPlainUserCode(code), true));
  for (const code of ['', ' ABCD', 'ABCD-', '[x](command:y)', 'AB<CD>', 'AB\u0007CD', 'AB\u202eCD', 'A:B', 'x'.repeat(65)]) {
    test(`${JSON.stringify(code.slice(0, 20))} is not`, () => assert.equal(isPlainUserCode(code), false));
  }
});
