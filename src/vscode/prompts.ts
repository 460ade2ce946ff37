import * as vscode from 'vscode';
import { cancelled } from '../oauth/errors.js';
import type { DeviceCodePrompt } from '../oauth/deviceGrant.js';

export const copyCodeCommand = 'oauthAnywhere.copyCodeAndOpenBrowser';
export const useCodeInsteadCommand = 'oauthAnywhere.useCodeInstead';

/**
 * The actions behind the links in the sign-in notification. A progress notification is the only kind
 * VS Code lets an extension close, so the sign-in shows its code and actions inside one (as command
 * links) instead of a message with buttons that would linger after the sign-in ended.
 */
export class PromptActions {
  private deviceCode: DeviceCodePrompt | undefined;
  private switchToCode: (() => void) | undefined;

  register(): vscode.Disposable {
    return vscode.Disposable.from(
      vscode.commands.registerCommand(copyCodeCommand, () => this.copyCodeAndOpenBrowser()),
      vscode.commands.registerCommand(useCodeInsteadCommand, () => this.switchToCode?.()),
    );
  }

  async copyCodeAndOpenBrowser(): Promise<void> {
    const prompt = this.deviceCode;
    if (!prompt) return;
    await vscode.env.clipboard.writeText(prompt.userCode);
    await vscode.env.openExternal(vscode.Uri.parse(prompt.verificationUriComplete ?? prompt.verificationUri, true));
  }

  /** Shows the device code in a cancellable progress notification while `task` polls. */
  withDeviceCode<T>(prompt: DeviceCodePrompt, controller: AbortController, task: Promise<T>): Thenable<T> {
    this.deviceCode = prompt;
    const issuer = new URL(prompt.issuer).host;
    const message = vscode.l10n.t(
      'Enter code {0} at {1} — [Copy code and open browser]({2}). Requested by client "{3}" of {4}; if you did not start this sign-in, cancel it.',
      prompt.userCode,
      prompt.verificationUri,
      `command:${copyCodeCommand}`,
      prompt.clientId,
      prompt.issuer,
    );
    return withCancellableProgress(vscode.l10n.t('Sign in to {0}', issuer), message, controller, task).then(
      (value) => this.clearDeviceCode(prompt, value),
      (error: unknown) => this.clearDeviceCode(prompt, Promise.reject(error)),
    );
  }

  /** The notification while the browser sign-in runs, with "Use a code instead" when possible. */
  withBrowserWait<T>(issuerHost: string, offerCode: (() => void) | undefined, controller: AbortController, task: Promise<T>): Thenable<T> {
    this.switchToCode = offerCode;
    const message = offerCode
      ? vscode.l10n.t('Waiting for you to sign in in your browser. Browser on another machine? [Use a code instead]({0})', `command:${useCodeInsteadCommand}`)
      : vscode.l10n.t('Waiting for you to sign in in your browser.');
    const done = () => {
      if (this.switchToCode === offerCode) this.switchToCode = undefined;
    };
    return withCancellableProgress(vscode.l10n.t('Sign in to {0}', issuerHost), message, controller, task).then(
      (value) => (done(), value),
      (error: unknown) => {
        done();
        throw error;
      },
    );
  }

  private clearDeviceCode<T>(prompt: DeviceCodePrompt, value: T | Promise<T>): T | Promise<T> {
    if (this.deviceCode === prompt) this.deviceCode = undefined;
    return value;
  }
}

/**
 * A notification with a Cancel button that lasts exactly as long as `task`. Cancel aborts `controller`,
 * which `task` listens to, so polling or the callback server stops at once.
 */
function withCancellableProgress<T>(title: string, message: string, controller: AbortController, task: Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    progress.report({ message });
    const subscription = token.onCancellationRequested(() => controller.abort(cancelled()));
    return task.finally(() => subscription.dispose());
  });
}
