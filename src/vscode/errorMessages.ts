import type { OAuthErrorKind } from '../oauth/errors.js';

/** vscode.l10n.t, or any function with its shape (tests pass a plain formatter). */
export type Translate = (message: string, ...args: Array<string | number | boolean>) => string;

/** The buttons a failure notification offers, in order. */
export type ErrorAction = 'configure' | 'troubleshoot' | 'showLog';

export interface SignInFailureMessage {
  message: string;
  actions: ErrorAction[];
}

interface KindText {
  /** What happened, in a person's words. */
  happened: string;
  /** What to do about it. */
  todo: string;
  /** The settings are the cure: offer Configure first. */
  settings?: boolean;
}

/** Every kind the core can fail with, by design exhaustive: a new kind does not compile until it has a message. */
const texts: Record<Exclude<OAuthErrorKind, 'cancelled'>, KindText> = {
  denied: {
    happened: 'The sign-in was declined.',
    todo: 'Sign in again and approve it, or ask the administrator of the identity provider whether this client may be used.',
  },
  expired: {
    happened: 'The sign-in was not approved in time.',
    todo: 'Sign in again for a new code, and approve it before it expires.',
  },
  timeout: {
    happened: 'Nothing came back in time.',
    todo: 'Check that the identity provider is reachable (Troubleshoot tests it), then sign in again.',
  },
  network: {
    happened: 'The identity provider could not be reached.',
    todo: 'Check the network, proxy or VPN and the issuer URL; Troubleshoot tests the connection.',
  },
  idp_error: {
    happened: 'The identity provider reported an error.',
    todo: 'Try again in a moment; if it persists, send the Troubleshoot report to whoever runs the identity provider.',
  },
  invalid_grant: {
    happened: 'The identity provider no longer accepts this sign-in.',
    todo: 'Sign in again.',
  },
  invalid_response: {
    happened: "The identity provider's answer failed a security check, so it was refused.",
    todo: "Check this machine's clock and the issuer URL (Troubleshoot compares both), then sign in again.",
  },
  misconfigured: {
    happened: 'The settings cannot work with this identity provider.',
    todo: 'Run "OAuth Anywhere: Configure" or correct the setting named above.',
    settings: true,
  },
  unsupported: {
    happened: 'The identity provider does not offer what this sign-in needs.',
    todo: 'Troubleshoot lists what it offers; set "OAuth Anywhere: Flow" or "OAuth Anywhere: Endpoints" to match.',
    settings: true,
  },
  browser_unavailable: {
    happened: 'No browser could be opened where VS Code runs.',
    todo: 'Set "OAuth Anywhere: Flow" to "device" to sign in with a code on any device.',
  },
};

/**
 * The notification for a failed sign-in: what happened, the core's own specifics (which already name
 * the step and the identity provider's words), what to do, and the buttons. Undefined for a cancel,
 * which is no failure. `kind` is undefined for errors from outside the OAuth core.
 */
export function signInFailureMessage(kind: OAuthErrorKind | undefined, detail: string, t: Translate): SignInFailureMessage | undefined {
  if (kind === 'cancelled') return undefined;
  const text = kind ? texts[kind] : undefined;
  const actions: ErrorAction[] = text?.settings ? ['configure', 'troubleshoot', 'showLog'] : ['troubleshoot', 'showLog'];
  if (!text) return { message: t('OAuth Anywhere sign-in failed: {0} Troubleshoot shows what is wrong.', detail), actions };
  return { message: t('OAuth Anywhere sign-in failed: {0} {1} {2}', t(text.happened), detail, t(text.todo)), actions };
}

/** Every kind with a message, for the test that proves none is missing. */
export const explainedKinds = Object.keys(texts) as Array<Exclude<OAuthErrorKind, 'cancelled'>>;
