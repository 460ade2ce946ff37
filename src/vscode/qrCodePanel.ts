import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { DeviceCodePrompt } from '../oauth/deviceGrant.js';
import { untrustedText } from '../oauth/untrustedText.js';
import { deviceCodePage, qrTarget } from './deviceCodePage.js';
import { qrSvg } from './qrCode.js';
import type { ExtensionServices } from './services.js';

/**
 * "Show QR code" in the device-code notification: a webview with the QR code of the verification
 * address and the code in large type, for signing in on a phone. One panel at a time; it closes with
 * the notification, when the code no longer works. The webview runs no script.
 */
export function registerQrCodePanel(services: ExtensionServices): vscode.Disposable {
  let current: { prompt: DeviceCodePrompt; panel: vscode.WebviewPanel } | undefined;

  services.prompts.setDeviceCodeViewer((prompt) => {
    if (current?.prompt === prompt) {
      current.panel.reveal();
      return undefined;
    }
    current?.panel.dispose();
    const panel = vscode.window.createWebviewPanel(
      'oauthAnywhere.deviceCode',
      vscode.l10n.t('Sign-in code {0}', untrustedText(prompt.userCode, 64)),
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableScripts: false, enableForms: false, enableCommandUris: false, localResourceRoots: [], retainContextWhenHidden: false },
    );
    const shown = { prompt, panel };
    current = shown;
    panel.onDidDispose(() => {
      if (current === shown) current = undefined;
    });
    try {
      panel.webview.html = deviceCodePage({ prompt, qrSvg: qrSvg(qrTarget(prompt)), nonce: randomBytes(16).toString('base64'), now: Date.now(), t: vscode.l10n.t });
      services.logger.info('Showing the sign-in code as a QR code.');
    } catch (error) {
      // A verification address too long for any QR code.
      services.logger.error(`The QR code could not be drawn: ${error instanceof Error ? error.message : String(error)}`);
      panel.dispose();
      return undefined;
    }
    return panel;
  });
  return new vscode.Disposable(() => {
    services.prompts.setDeviceCodeViewer(undefined);
    current?.panel.dispose();
  });
}
