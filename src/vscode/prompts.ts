import * as vscode from 'vscode';
import { cancelled } from '../oauth/errors.js';
import type { DeviceCodePrompt } from '../oauth/deviceGrant.js';

export const copyCodeCommand = 'oauthAnywhere.copyCodeAndOpenBrowser';
export const useCodeInsteadCommand = 'oauthAnywhere.useCodeInstead';
export const pasteInsteadCommand = 'oauthAnywhere.pasteResponseInstead';
export const showQrCodeCommand = 'oauthAnywhere.showQrCode';

/** Shows a device code on another surface (the QR code panel) until the returned disposable goes. */
export type DeviceCodeViewer = (prompt: DeviceCodePrompt) => vscode.Disposable | undefined;

/** What the browser-wait notification offers when the browser turns out to be elsewhere. */
export interface BrowserWaitOptions {
  issuerHost: string;
  /** Where "switch" leads, and the action; none: no link. */
  switchTo?: { kind: 'device' | 'paste'; run(): void };
  /** Seconds after which the sign-in switches by itself when the browser never arrives. */
  checkSeconds?: number;
}

/**
 * The actions behind the links in the sign-in notification. A progress notification is the only kind
 * VS Code lets an extension close, so the sign-in shows its code and actions inside one (as command
 * links) instead of a message with buttons that would linger after the sign-in ended. One sign-in
 * shows one notification at a time, so one Cancel always ends all of it.
 */
export class PromptActions {
  private deviceCode: DeviceCodePrompt | undefined;
  private switchAction: (() => void) | undefined;
  private viewer: DeviceCodeViewer | undefined;
  private readonly companions: vscode.Disposable[] = [];

  register(): vscode.Disposable {
    return vscode.Disposable.from(
      vscode.commands.registerCommand(copyCodeCommand, () => this.copyCodeAndOpenBrowser()),
      vscode.commands.registerCommand(useCodeInsteadCommand, () => this.switchAction?.()),
      vscode.commands.registerCommand(pasteInsteadCommand, () => this.switchAction?.()),
      vscode.commands.registerCommand(showQrCodeCommand, () => this.showQrCode()),
    );
  }

  /** Set by the QR code panel's registration; until then the notification offers no QR code. */
  setDeviceCodeViewer(viewer: DeviceCodeViewer | undefined): void {
    this.viewer = viewer;
  }

  /** The device code being shown right now, if any. */
  currentDeviceCode(): DeviceCodePrompt | undefined {
    return this.deviceCode;
  }

  async copyCodeAndOpenBrowser(): Promise<void> {
    const prompt = this.deviceCode;
    if (!prompt) return;
    await vscode.env.clipboard.writeText(prompt.userCode);
    await vscode.env.openExternal(vscode.Uri.parse(prompt.verificationUriComplete ?? prompt.verificationUri, true));
  }

  showQrCode(): void {
    const prompt = this.deviceCode;
    if (!prompt || !this.viewer) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No sign-in code is being shown right now.'));
      return;
    }
    const shown = this.viewer(prompt);
    if (shown) this.companions.push(shown);
  }

  /**
   * Shows the device code in a cancellable progress notification while `task` polls. `switchedBecause`
   * opens the message when the sign-in came here from the browser by itself, so the person knows why.
   */
  withDeviceCode<T>(prompt: DeviceCodePrompt, controller: AbortController, task: Promise<T>, switchedBecause?: string): Thenable<T> {
    this.deviceCode = prompt;
    const issuer = new URL(prompt.issuer).host;
    const qr = this.viewer ? vscode.l10n.t(' · [Show QR code]({0})', `command:${showQrCodeCommand}`) : '';
    const message = vscode.l10n.t(
      'Enter code {0} at {1} — [Copy code and open browser]({2}){3}. Requested by client "{4}" of {5}; if you did not start this sign-in, cancel it.',
      prompt.userCode,
      prompt.verificationUri,
      `command:${copyCodeCommand}`,
      qr,
      prompt.clientId,
      prompt.issuer,
    );
    const shown = switchedBecause ? `${switchedBecause} ${message}` : message;
    return withCancellableProgress(vscode.l10n.t('Sign in to {0}', issuer), shown, controller, task).then(
      (value) => this.clearDeviceCode(prompt, value),
      (error: unknown) => this.clearDeviceCode(prompt, Promise.reject(error)),
    );
  }

  /** The notification while the browser sign-in runs, with the way out when the browser is elsewhere. */
  withBrowserWait<T>(options: BrowserWaitOptions, controller: AbortController, task: Promise<T>): Thenable<T> {
    const action = options.switchTo?.run;
    this.switchAction = action;
    const waiting = vscode.l10n.t('Waiting for you to sign in in your browser.');
    const byItself =
      options.checkSeconds && options.switchTo
        ? ` ${
            options.switchTo.kind === 'device'
              ? vscode.l10n.t('If it has not opened within {0} s, this switches to a code by itself.', options.checkSeconds)
              : vscode.l10n.t('If it has not opened within {0} s, you can paste the address instead.', options.checkSeconds)
          }`
        : '';
    const link = !options.switchTo
      ? ''
      : options.switchTo.kind === 'device'
        ? ` ${vscode.l10n.t('Browser on another machine? [Use a code instead]({0})', `command:${useCodeInsteadCommand}`)}`
        : ` ${vscode.l10n.t('Browser on another machine? [Paste the address instead]({0})', `command:${pasteInsteadCommand}`)}`;
    const done = () => {
      if (this.switchAction === action) this.switchAction = undefined;
    };
    return withCancellableProgress(vscode.l10n.t('Sign in to {0}', options.issuerHost), `${waiting}${byItself}${link}`, controller, task).then(
      (value) => (done(), value),
      (error: unknown) => {
        done();
        throw error;
      },
    );
  }

  private clearDeviceCode<T>(prompt: DeviceCodePrompt, value: T | Promise<T>): T | Promise<T> {
    if (this.deviceCode === prompt) {
      this.deviceCode = undefined;
      // The QR code panel shows a code that no longer works: it goes with the notification.
      for (const companion of this.companions.splice(0)) companion.dispose();
    }
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
