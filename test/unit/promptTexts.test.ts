import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceCodePrompt } from '../../src/oauth/deviceGrant.js';
import { commandUri, deviceCodeMessage, redirectHint, withoutIcons } from '../../src/vscode/promptTexts.js';
import { assertPlainNotification, format, notificationLinks } from '../support/renderedText.js';

const prompt: DeviceCodePrompt = {
  userCode: 'WDJB-MJHT',
  verificationUri: 'https://idp.example.test/device',
  expiresAt: 0,
  issuer: 'https://idp.example.test/',
  clientId: 'vscode',
};

describe('the sign-in notifications\' texts', () => {
  test('a command link names its sign-in in JSON arguments VS Code passes to the command', () => {
    const uri = commandUri('oauthAnywhere.copyCodeAndOpenBrowser', '7');
    assert.equal(uri, 'command:oauthAnywhere.copyCodeAndOpenBrowser?%5B%227%22%5D');
    assert.deepEqual(JSON.parse(decodeURIComponent(uri.split('?')[1]!)), ['7']);
    assert.deepEqual(notificationLinks(`[x](${uri})`), [uri], 'VS Code renders it as one link');
  });

  test('the device code message: the code as sent, where, who asks, and the extension\'s links only', () => {
    const message = deviceCodeMessage(prompt, { copy: commandUri('oauthAnywhere.copyCodeAndOpenBrowser', '1') }, format);
    assert.equal(
      message,
      'Enter code WDJB-MJHT at https://idp.example.test/device — [Copy code and open browser](command:oauthAnywhere.copyCodeAndOpenBrowser?%5B%221%22%5D). Requested by client "vscode" of https://idp.example.test/; if you did not start this sign-in, cancel it.',
    );
  });

  test('a client id or issuer with link syntax (from settings) is text too', () => {
    const message = deviceCodeMessage({ ...prompt, clientId: '[a](command:evil)', issuer: 'https://idp.example.test/[b](https://evil.example)' }, { copy: commandUri('oauthAnywhere.copyCodeAndOpenBrowser', '1') }, format);
    assertPlainNotification(message, 'client id and issuer');
  });

  test('the redirect hint names the address and offers the way out', () => {
    const paste = redirectHint('http://127.0.0.1:28130/callback', { kind: 'paste', uri: commandUri('oauthAnywhere.pasteResponseInstead', '2') }, format);
    assert.match(paste, /does not accept http:\/\/127\.0\.0\.1:28130\/callback: register exactly that address/);
    assert.deepEqual(notificationLinks(paste), [commandUri('oauthAnywhere.pasteResponseInstead', '2')]);
    assert.deepEqual(notificationLinks(redirectHint('http://127.0.0.1:1/callback', undefined, format)), []);
  });

  test('the extension\'s own links are those of its notifications, not every oauthAnywhere command', () => {
    assertPlainNotification(`Enter code X — [Copy code and open browser](${commandUri('oauthAnywhere.copyCodeAndOpenBrowser', '1')}) · [Show QR code](${commandUri('oauthAnywhere.showQrCode', '1')})`, 'own links');
    for (const link of ['command:oauthAnywhere.signOut', 'command:oauthAnywhere.resetTerminalAccess?%5B%5D', 'command:oauthAnywhere.copyCodeAndOpenBrowserX', 'https://idp.example.test/device']) {
      assert.throws(() => assertPlainNotification(`[x](${link})`, link), /no link but the extension's own/, link);
    }
  });

  test('quick pick labels show $(name) as typed, not as an icon', () => {
    assert.equal(withoutIcons('$(warning) admin $(x)'), '\\$(warning) admin \\$(x)');
  });
});
