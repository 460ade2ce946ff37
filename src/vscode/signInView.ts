import type { DeviceCodePrompt } from '../oauth/deviceGrant.js';
import { cancelled } from '../oauth/errors.js';
import type { PasteEntry } from '../oauth/loopback.js';
import type { Translate } from './errorMessages.js';
import { fallbackFor, type BrowserFallbackPlan } from './fallbackPlan.js';
import type { LeftBecause, SignInMachine, SignInState } from './signInMachine.js';

/** What the browser-wait notification offers when the browser turns out to be elsewhere. */
export interface BrowserWaitOptions {
  issuerHost: string;
  /** Where "switch" leads, and the action; none: no link. */
  switchTo?: { kind: 'device' | 'paste'; run: () => void };
  /** Seconds after which the sign-in switches by itself when the browser never arrives. */
  checkSeconds?: number;
  /** Settles with the redirect URI when the browser went to the identity provider and never came back. */
  noReturn?: Promise<string>;
}

export interface PasteOptions {
  issuerHost: string;
  /** Why the box is shown, one sentence that opens the prompt. */
  because: string;
  entry: PasteEntry;
}

/**
 * What a sign-in shows, one surface at a time (prompts.ts draws them in VS Code). Each lasts until
 * `until` settles; `cancel` is its Cancel button (or closing it), which ends the whole sign-in.
 */
export interface SignInSurfaces {
  /** A cancellable notification while the identity provider is being asked (its capabilities, a code). */
  withPreparing(options: { issuerHost: string; message: string }, cancel: () => void, until: Promise<void>): PromiseLike<unknown>;
  withBrowserWait(options: BrowserWaitOptions, cancel: () => void, until: Promise<void>): PromiseLike<unknown>;
  /** `switchedBecause` opens the message when the sign-in came here from the browser. */
  withDeviceCode(prompt: DeviceCodePrompt, cancel: () => void, until: Promise<void>, switchedBecause?: string): PromiseLike<unknown>;
  askForPaste(options: PasteOptions, cancel: () => void, until: Promise<void>): PromiseLike<unknown>;
}

export interface SignInViewContext {
  surfaces: SignInSurfaces;
  /** vscode.l10n.t in VS Code. */
  t: Translate;
  issuerHost: string;
  /** The browser sign-in's plan, once the flow is chosen; undefined for a sign-in that starts with a code. */
  plan(): BrowserFallbackPlan | undefined;
  /** The address to paste, once the browser sign-in has one. */
  pasteEntry(): PasteEntry | undefined;
}

/**
 * Shows the machine's current state and nothing else: a notification while the identity provider
 * is being asked, the browser-wait notification, the device-code notification or the paste box, each
 * for exactly as long as its state lasts. Every state before the end has a Cancel, which is the
 * machine's `cancelled` event; "Use a code instead" is its `switchAsked`. Pure: the surfaces are
 * handed in, so tests run it in plain Node. `closed` settles once the last surface has gone.
 */
export function renderSignIn(machine: SignInMachine, context: SignInViewContext): { closed(): Promise<void> } {
  let leave: () => void = () => undefined;
  let tellNoReturn: (redirectUri: string) => void = () => undefined;
  let shown: Promise<void> = Promise.resolve();
  const cancel = () => machine.dispatch({ type: 'cancelled', error: cancelled() });

  const showState = (state: SignInState): void => {
    leave();
    const exit = new Promise<void>((resolve) => (leave = resolve));
    const surface = show(state, { exit, cancel, context, machine, onNoReturn: (tell) => (tellNoReturn = tell) });
    if (surface) shown = Promise.resolve(surface).then(
      () => undefined,
      () => undefined,
    );
  };
  machine.watch((state, previous) => {
    if (state.name === 'browserWaiting' && previous.name === 'browserWaiting') {
      if (state.hint) tellNoReturn(state.hint.redirectUri);
      return;
    }
    showState(state);
  });
  // The machine starts in a state that has a surface of its own.
  showState(machine.state);
  return { closed: () => shown };
}

interface Showing {
  exit: Promise<void>;
  cancel: () => void;
  context: SignInViewContext;
  machine: SignInMachine;
  onNoReturn: (tell: (redirectUri: string) => void) => void;
}

function show(state: SignInState, { exit, cancel, context, machine, onNoReturn }: Showing): PromiseLike<unknown> | undefined {
  const { surfaces, t, issuerHost } = context;
  // Called as l10n.t('...'): the form scripts/l10nBundle.mjs looks for.
  const l10n = { t };
  const plan = context.plan();
  const seconds = (plan?.browserCheckMs ?? 0) / 1000;
  switch (state.name) {
    case 'starting':
      return surfaces.withPreparing({ issuerHost, message: l10n.t('Contacting the identity provider…') }, cancel, exit);
    case 'browserWaiting': {
      const noReturn = new Promise<string>((resolve) => onNoReturn(resolve));
      return surfaces.withBrowserWait(
        {
          issuerHost,
          switchTo: plan && { kind: plan.fallback, run: () => machine.dispatch({ type: 'switchAsked' }) },
          checkSeconds: plan?.browserCheckMs === undefined ? undefined : seconds,
          noReturn,
        },
        cancel,
        exit,
      );
    }
    case 'browserLeft': {
      const toward = fallbackFor(plan);
      const next = toward === 'device' ? l10n.t('Requesting a sign-in code…') : l10n.t('Preparing the sign-in address…');
      return surfaces.withPreparing({ issuerHost, message: `${leftExplained(t, state.because, toward, seconds, state.detail)} ${next}` }, cancel, exit);
    }
    case 'codeShown':
      return surfaces.withDeviceCode(state.prompt, cancel, exit, state.because && leftExplained(t, state.because, 'device', seconds, state.detail));
    case 'pasteAsked': {
      const entry = context.pasteEntry();
      // The runner moves to pasteAsked only with an entry in hand.
      if (!entry) return undefined;
      return surfaces.askForPaste({ issuerHost, because: leftExplained(t, state.because, 'paste', seconds), entry }, cancel, exit);
    }
    default:
      return undefined;
  }
}

/** The sentence that opens the fallback's surface when the sign-in left the browser. */
function leftExplained(t: Translate, because: LeftBecause, toward: 'device' | 'paste', seconds: number, detail?: string): string {
  // Called as l10n.t('...'): the form scripts/l10nBundle.mjs looks for first.
  const l10n = { t };
  if (toward === 'device') {
    switch (because) {
      case 'checkMissed':
        return l10n.t("Your browser did not open VS Code's sign-in page within {0} s, so it is probably on another device: signing in with a code instead.", seconds);
      case 'noBrowser':
        return l10n.t('No browser could be opened here: signing in with a code instead.');
      case 'portUnavailable':
        return l10n.t('The browser sign-in cannot start here: {0} Signing in with a code instead.', detail ?? '');
      default:
        return l10n.t('Signing in with a code instead of the browser.');
    }
  }
  switch (because) {
    case 'checkMissed':
      return l10n.t("Your browser did not open VS Code's sign-in page within {0} s, so it is probably on another device, and this identity provider offers no sign-in with a code.", seconds);
    case 'noBrowser':
      return l10n.t('No browser could be opened here. Copy the sign-in address (button above), open it in any browser and approve.');
    case 'notForwarded':
      return l10n.t("VS Code cannot forward this sign-in's redirect to your browser's machine. Approve the sign-in in the browser.");
    default:
      return l10n.t('Approve the sign-in in your browser.');
  }
}
