import * as vscode from 'vscode';
import type { PasteEntry } from '../oauth/loopback.js';
import type { BrowserFallbackPlan } from './fallbackPlan.js';
import { askForPastedResponse } from './pasteBox.js';
import type { PromptActions } from './prompts.js';
import type { LeftBecause, SignInMachine, SignInState } from './signInMachine.js';

export interface SignInSurfaces {
  prompts: PromptActions;
  /** Aborted by Cancel in any surface: the whole sign-in stops. */
  controller: AbortController;
  issuerHost: string;
  /** The browser sign-in's plan; undefined for a sign-in that starts with a code. */
  plan: BrowserFallbackPlan | undefined;
  /** The address to paste, once the browser sign-in has one. */
  pasteEntry(): PasteEntry | undefined;
}

/**
 * Shows the machine's current state and nothing else: the browser-wait notification, the
 * device-code notification or the paste box, each for exactly as long as its state lasts. The
 * surfaces' own actions (Cancel, "Use a code instead") become events or abort the sign-in.
 * `closed` settles once the last surface has gone.
 */
export function renderSignIn(machine: SignInMachine, surfaces: SignInSurfaces): { closed(): Promise<void> } {
  let leave: () => void = () => undefined;
  let tellNoReturn: (redirectUri: string) => void = () => undefined;
  let shown: Promise<void> = Promise.resolve();

  machine.watch((state, previous) => {
    if (state.name === 'browserWaiting' && previous.name === 'browserWaiting') {
      if (state.hint) tellNoReturn(state.hint.redirectUri);
      return;
    }
    leave();
    const exit = new Promise<void>((resolve) => (leave = resolve));
    const surface = show(state, exit, surfaces, machine, (tell) => (tellNoReturn = tell));
    if (surface) shown = Promise.resolve(surface).then(() => undefined, () => undefined);
  });
  return { closed: () => shown };
}

function show(state: SignInState, exit: Promise<void>, surfaces: SignInSurfaces, machine: SignInMachine, onNoReturn: (tell: (redirectUri: string) => void) => void): Thenable<unknown> | undefined {
  const { prompts, controller, issuerHost, plan } = surfaces;
  switch (state.name) {
    case 'browserWaiting': {
      const noReturn = new Promise<string>((resolve) => onNoReturn(resolve));
      return prompts.withBrowserWait(
        {
          issuerHost,
          switchTo: plan && { kind: plan.fallback, run: () => machine.dispatch({ type: 'switchAsked' }) },
          checkSeconds: plan?.browserCheckMs === undefined ? undefined : plan.browserCheckMs / 1000,
          noReturn,
        },
        controller,
        exit,
      );
    }
    case 'codeShown':
      return prompts.withDeviceCode(state.prompt, controller, exit, state.because && leftExplained(state.because, plan));
    case 'pasteAsked': {
      const entry = surfaces.pasteEntry();
      // The runner moves to pasteAsked only with an entry in hand.
      if (!entry) return undefined;
      return askForPastedResponse({ issuerHost, because: leftExplained(state.because, plan), entry, controller, until: exit });
    }
    default:
      return undefined;
  }
}

/** The sentence that opens the fallback's surface when the sign-in left the browser. */
function leftExplained(because: LeftBecause, plan: BrowserFallbackPlan | undefined): string {
  const seconds = (plan?.browserCheckMs ?? 0) / 1000;
  if (plan?.fallback !== 'paste') {
    switch (because) {
      case 'checkMissed':
        return vscode.l10n.t("Your browser did not open VS Code's sign-in page within {0} s, so it is probably on another device: signing in with a code instead.", seconds);
      case 'noBrowser':
        return vscode.l10n.t('No browser could be opened here: signing in with a code instead.');
      default:
        return vscode.l10n.t('Signing in with a code instead of the browser.');
    }
  }
  switch (because) {
    case 'checkMissed':
      return vscode.l10n.t("Your browser did not open VS Code's sign-in page within {0} s, so it is probably on another device, and this identity provider offers no sign-in with a code.", seconds);
    case 'noBrowser':
      return vscode.l10n.t('No browser could be opened here. Copy the sign-in address (button above), open it in any browser and approve.');
    case 'notForwarded':
      return vscode.l10n.t("VS Code cannot forward this sign-in's redirect to your browser's machine. Approve the sign-in in the browser.");
    default:
      return vscode.l10n.t('Approve the sign-in in your browser.');
  }
}
