import * as vscode from 'vscode';
import { openIdentityProviderPage } from './openExternal.js';
import type { PasteOptions } from './signInView.js';

export interface PasteBoxOptions extends PasteOptions {
  /** Called when the person closes the box: the whole sign-in stops. */
  cancel(): void;
  /** Settles when the paste step is over: the pasted response (or the browser's own redirect) signed in, or the sign-in ended. */
  until: Promise<void>;
}

/**
 * The paste step: an input box that takes the address the browser was redirected to (or the code) and
 * hands it to the loopback sign-in, which validates it like a real callback. A text that belongs to no
 * response of this sign-in leaves the box open with the reason; closing the box cancels the sign-in,
 * and the box closes by itself when the sign-in ends any other way (the redirect did arrive).
 */
export function askForPastedResponse(options: PasteBoxOptions): Promise<void> {
  const { entry } = options;
  const box = vscode.window.createInputBox();
  const copyAddress: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('copy'), tooltip: vscode.l10n.t('Copy the sign-in address, to open it in any browser') };
  const openAgain: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('link-external'), tooltip: vscode.l10n.t('Open the sign-in page again') };
  box.title = vscode.l10n.t('Sign in to {0}', options.issuerHost);
  box.prompt = `${options.because} ${vscode.l10n.t('After you approve, the browser is sent to an address starting with {0} (the page may fail to load). Paste that whole address here, or just its code.', entry.redirectUri)}`;
  box.placeholder = `${entry.redirectUri}?code=…&state=…`;
  box.ignoreFocusOut = true;
  box.buttons = [copyAddress, openAgain];

  let ended = false;
  const subscriptions = [
    box.onDidAccept(async () => {
      if (box.busy || !box.value.trim()) return;
      box.busy = true;
      box.enabled = false;
      box.validationMessage = undefined;
      const verdict = await entry.submit(box.value);
      // "finished": the sign-in moves on and closes the box; until then it stays busy.
      if (verdict.status === 'retry' && !ended) {
        box.validationMessage = verdict.reason;
        box.busy = false;
        box.enabled = true;
      }
    }),
    box.onDidTriggerButton(async (button) => {
      if (button === copyAddress) {
        await vscode.env.clipboard.writeText(entry.authorizeUrl);
        box.validationMessage = undefined;
      } else if (button === openAgain) {
        await openIdentityProviderPage(entry.authorizeUrl, 'authorization_endpoint');
      }
    }),
    box.onDidHide(() => {
      if (!ended) options.cancel();
    }),
  ];
  box.show();
  return options.until.finally(() => {
    ended = true;
    box.hide();
    for (const subscription of subscriptions) subscription.dispose();
    box.dispose();
  });
}
