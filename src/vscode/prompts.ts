import * as vscode from 'vscode';
import type { DeviceCodePrompt } from '../oauth/deviceGrant.js';
import { openIdentityProviderPage } from './openExternal.js';
import { askForPastedResponse } from './pasteBox.js';
import { commandUri, copyCodeCommand, deviceCodeMessage, pasteInsteadCommand, redirectHint, showQrCodeCommand, useCodeInsteadCommand } from './promptTexts.js';
import type { BrowserWaitOptions, PasteOptions, SignInSurfaces } from './signInView.js';
import { inBackground } from './inBackground.js';

/** Shows a device code on another surface (the QR code panel) until the returned disposable goes. */
export type DeviceCodeViewer = (prompt: DeviceCodePrompt) => vscode.Disposable | undefined;

/**
 * How long a sign-in waits for the identity provider before it shows a notification (with Cancel)
 * saying so: most answers come sooner, and a notification that flashes up and goes is noise.
 */
const preparingNoticeDelayMs = 1_000;

/** One sign-in's notification: what its links act on. */
interface PromptState {
  deviceCode?: DeviceCodePrompt;
  switchAction?: () => void;
  /** Surfaces showing this sign-in's code (the QR code panel): they close with it. */
  companions: vscode.Disposable[];
}

/**
 * The sign-in's surfaces in VS Code (signInView.ts decides which one shows when), and the actions
 * behind the links in its notifications. A progress notification is the only kind VS Code lets an
 * extension close, so a sign-in shows its code and actions inside one (as command links) instead of a
 * message with buttons that would linger after the sign-in ended. Each sign-in has its own state,
 * named in its links: two sign-ins at once (two providers) never act on each other's code.
 */
export class PromptActions implements SignInSurfaces {
  private readonly states = new Map<string, PromptState>();
  private lastId = 0;
  private viewer: DeviceCodeViewer | undefined;

  register(): vscode.Disposable {
    return vscode.Disposable.from(
      vscode.commands.registerCommand(copyCodeCommand, (id: unknown) => this.copyCodeAndOpenBrowser(id)),
      vscode.commands.registerCommand(useCodeInsteadCommand, (id: unknown) => this.state(id)?.switchAction?.()),
      vscode.commands.registerCommand(pasteInsteadCommand, (id: unknown) => this.state(id)?.switchAction?.()),
      vscode.commands.registerCommand(showQrCodeCommand, (id: unknown) => this.showQrCode(id)),
    );
  }

  /** Set by the QR code panel's registration; until then the notification offers no QR code. */
  setDeviceCodeViewer(viewer: DeviceCodeViewer | undefined): void {
    this.viewer = viewer;
  }

  async copyCodeAndOpenBrowser(id?: unknown): Promise<void> {
    const prompt = this.state(id)?.deviceCode;
    if (!prompt) return;
    await vscode.env.clipboard.writeText(prompt.userCode);
    await openIdentityProviderPage(prompt.verificationUriComplete ?? prompt.verificationUri, 'verification_uri');
  }

  showQrCode(id?: unknown): void {
    const state = this.state(id);
    if (!state?.deviceCode || !this.viewer) {
      inBackground(vscode.window.showInformationMessage(vscode.l10n.t('No sign-in code is being shown right now.')));
      return;
    }
    const shown = this.viewer(state.deviceCode);
    if (shown) state.companions.push(shown);
  }

  /**
   * Shows the device code in a cancellable progress notification while `task` polls. `switchedBecause`
   * opens the message when the sign-in came here from the browser by itself, so the person knows why.
   */
  withDeviceCode(prompt: DeviceCodePrompt, cancel: () => void, until: Promise<void>, switchedBecause?: string): Thenable<void> {
    const { id, end } = this.open({ deviceCode: prompt, companions: [] });
    const links = { copy: commandUri(copyCodeCommand, id), qr: this.viewer ? commandUri(showQrCodeCommand, id) : undefined };
    const message = deviceCodeMessage(prompt, links, vscode.l10n.t);
    const shown = switchedBecause ? `${switchedBecause} ${message}` : message;
    return withCancellableProgress(vscode.l10n.t('Sign in to {0}', new URL(prompt.issuer).host), shown, cancel, until).then(end, (error: unknown) => {
      end(undefined);
      throw error;
    });
  }

  /**
   * While the identity provider is being asked (its capabilities, a code): a notification with
   * Cancel, shown only when the answer takes longer than a moment.
   */
  withPreparing(options: { issuerHost: string; message: string }, cancel: () => void, until: Promise<void>): Promise<void> {
    let ended = false;
    const timer = setTimeout(() => {
      if (!ended) void withCancellableProgress(vscode.l10n.t('Sign in to {0}', options.issuerHost), options.message, cancel, until).then(undefined, () => undefined);
    }, preparingNoticeDelayMs);
    return until.finally(() => {
      ended = true;
      clearTimeout(timer);
    });
  }

  askForPaste(options: PasteOptions, cancel: () => void, until: Promise<void>): Promise<void> {
    return askForPastedResponse({ ...options, cancel, until });
  }

  /** The notification while the browser sign-in runs, with the way out when the browser is elsewhere. */
  withBrowserWait(options: BrowserWaitOptions, cancel: () => void, until: Promise<void>): Thenable<void> {
    const { id, end } = this.open({ switchAction: options.switchTo?.run, companions: [] });
    const switchLink = options.switchTo && { kind: options.switchTo.kind, uri: commandUri(options.switchTo.kind === 'device' ? useCodeInsteadCommand : pasteInsteadCommand, id) };
    const waiting = vscode.l10n.t('Waiting for you to sign in in your browser.');
    const byItself =
      options.checkSeconds && options.switchTo
        ? ` ${
            options.switchTo.kind === 'device'
              ? vscode.l10n.t('If it has not opened within {0} s, this switches to a code by itself.', options.checkSeconds)
              : vscode.l10n.t('If it has not opened within {0} s, you can paste the address instead.', options.checkSeconds)
          }`
        : '';
    const link = !switchLink
      ? ''
      : switchLink.kind === 'device'
        ? ` ${vscode.l10n.t('Browser on another machine? [Use a code instead]({0})', switchLink.uri)}`
        : ` ${vscode.l10n.t('Browser on another machine? [Paste the address instead]({0})', switchLink.uri)}`;
    const later = options.noReturn?.then((redirectUri) => `${waiting} ${redirectHint(redirectUri, switchLink, vscode.l10n.t)}`);
    return withCancellableProgress(vscode.l10n.t('Sign in to {0}', options.issuerHost), `${waiting}${byItself}${link}`, cancel, until, later).then(end, (error: unknown) => {
      end(undefined);
      throw error;
    });
  }

  /** A new sign-in's state under a fresh id, and the function that ends it (closing its companions). */
  private open(state: PromptState): { id: string; end: <T>(value: T) => T } {
    const id = String(++this.lastId);
    this.states.set(id, state);
    return {
      id,
      end: (value) => {
        this.states.delete(id);
        // The QR code panel shows a code that no longer works: it goes with the notification.
        for (const companion of state.companions.splice(0)) companion.dispose();
        return value;
      },
    };
  }

  /** The sign-in a link names; without an id (an old link, a keybinding), the newest one. */
  private state(id: unknown): PromptState | undefined {
    if (typeof id === 'string') return this.states.get(id);
    return [...this.states.values()].at(-1);
  }
}

/**
 * A notification with a Cancel button that lasts exactly as long as `task`. Cancel ends the sign-in
 * (its machine's `cancelled`), which stops the polling or the callback server at once. `later`
 * replaces the message when it settles first.
 */
function withCancellableProgress<T>(title: string, message: string, cancel: () => void, task: Promise<T>, later?: Promise<string>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    progress.report({ message });
    let done = false;
    later?.then((text) => done || progress.report({ message: text }), () => undefined);
    const subscription = token.onCancellationRequested(cancel);
    return task.finally(() => {
      done = true;
      subscription.dispose();
    });
  });
}
