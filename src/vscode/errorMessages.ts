import type { FailureReason } from '../oauth/errors.js';
import { notificationText } from '../oauth/untrustedText.js';

/** vscode.l10n.t, or any function with its shape (tests pass a plain formatter). */
export type Translate = (message: string, ...args: Array<string | number | boolean>) => string;

/** The buttons a failure notification offers, in order. */
export type ErrorAction = 'configure' | 'troubleshoot' | 'showLog';

export interface SignInFailureMessage {
  message: string;
  actions: ErrorAction[];
}

interface ReasonText {
  /** What happened, in a person's words. */
  happened: string;
  /** The one piece of advice that fits this cause. */
  todo: string;
  /** The settings are the cure: offer Configure first. */
  settings?: boolean;
}

/**
 * Every cause the core can fail with, each with its own words, written once here: the core's message
 * between them states only the facts (step, endpoint, status, the identity provider's words). By
 * design exhaustive: a new reason does not compile until it has a text.
 */
export const reasonTexts: Readonly<Record<Exclude<FailureReason, 'cancelled'>, ReasonText>> = {
  denied: {
    happened: 'The sign-in was declined.',
    todo: 'Sign in again and approve it, or ask the administrator of the identity provider whether this client may be used.',
  },
  code_expired: {
    happened: 'The sign-in was not approved in time.',
    todo: 'Sign in again for a new code, and approve it before it expires.',
  },
  answer_lost: {
    happened: "The identity provider's answer was lost on the way, after it may already have signed you in.",
    todo: 'Sign in again: that sign-in cannot reach VS Code any more. If answers keep getting lost, Troubleshoot measures how long the identity provider takes to answer.',
  },
  idp_unavailable: {
    happened: 'The identity provider is overloaded or down for the moment.',
    todo: 'Wait a few minutes, then sign in again.',
  },
  idp_failed: {
    happened: 'The identity provider failed to handle the request.',
    todo: 'If it happens again, send the Troubleshoot report to whoever runs the identity provider.',
  },
  timeout: {
    happened: 'The identity provider is slow, or unreachable from here.',
    todo: 'Check that it is reachable from where VS Code runs (Troubleshoot tests it), then sign in again.',
  },
  browser_timeout: {
    happened: 'The sign-in was not finished in the browser.',
    todo: 'If the identity provider showed an error about the redirect address, see "OAuth Anywhere: Loopback Port"; otherwise sign in again and finish in the browser, or sign in with a code ("OAuth Anywhere: Flow" set to "device").',
  },
  redirect_refused: {
    happened: 'The identity provider never sent the browser back to VS Code.',
    todo: 'It most likely does not accept the redirect address above: register exactly that address for the client, or set "OAuth Anywhere: Loopback Port" to the port of the address you registered. Signing in with a code needs no redirect.',
    settings: true,
  },
  network: {
    happened: 'The connection to the identity provider failed.',
    todo: 'Check the network, proxy or VPN and the issuer URL; Troubleshoot tests the connection.',
  },
  session_expired: {
    happened: 'The identity provider no longer accepts this session.',
    todo: 'Sign in again.',
  },
  grant_rejected: {
    happened: "The identity provider refused the sign-in's one-time code.",
    todo: 'Start the sign-in again: each code works once, and only for the sign-in that asked for it.',
  },
  client_rejected: {
    happened: 'The identity provider refused this client.',
    todo: 'Check the client id, that the client is registered as a public (native) one with the grant this sign-in uses, and the client secret where the preset needs one.',
    settings: true,
  },
  scope_rejected: {
    happened: 'The identity provider refused the requested scopes.',
    todo: 'Compare "OAuth Anywhere: Scopes" (and what the calling extension asks for) with the scopes the client may have.',
    settings: true,
  },
  redirected: {
    happened: 'The identity provider sent the request to another address.',
    todo: 'Check the issuer URL (and "OAuth Anywhere: Endpoints" if set): a redirect most often means it is not the exact address the identity provider states, such as a missing realm, tenant or path, or http where https is needed.',
    settings: true,
  },
  not_json: {
    happened: "The identity provider's answer was not an OAuth answer at all.",
    todo: 'Check the issuer URL, and that no proxy or captive portal answers in its place.',
  },
  too_large: {
    happened: 'The identity provider sent far more than an OAuth answer holds.',
    todo: 'Only whoever runs the identity provider can fix this: send them the Troubleshoot report.',
  },
  issuer_missing: {
    happened: 'The sign-in response lacked the issuer that the identity provider promises to send.',
    todo: 'Sign in again; if it repeats, something between the browser and VS Code strips it, which the Troubleshoot report helps to find.',
  },
  issuer_mismatch: {
    happened: 'The sign-in response came from another identity provider than the one configured.',
    todo: 'Sign in again from VS Code, and approve only sign-ins you started yourself.',
  },
  metadata_issuer_mismatch: {
    happened: "The identity provider's discovery document names another issuer than the one configured.",
    todo: 'Set the issuer exactly as the discovery document states it, trailing slash included.',
    settings: true,
  },
  id_token_rejected: {
    happened: 'The ID token failed a security check.',
    todo: "Check this machine's clock and the client id; Troubleshoot compares the clock with the identity provider's.",
  },
  signature_rejected: {
    happened: "The ID token's signature could not be verified.",
    todo: 'Sign in again in a few minutes, as the identity provider may be changing its keys; if it persists, send the Troubleshoot report to whoever runs it.',
  },
  protocol_violation: {
    happened: "The identity provider's answer breaks the OAuth rules.",
    todo: 'Pick your provider in "OAuth Anywhere: Preset" if it is listed there; otherwise send the Troubleshoot report to whoever runs the identity provider.',
    settings: true,
  },
  unsafe_url: {
    happened: 'The identity provider gave an address that VS Code does not open.',
    todo: 'Only https addresses (or http on this machine) are opened: ask whoever runs the identity provider to serve it over https.',
  },
  settings: {
    happened: 'The settings cannot work with this identity provider.',
    todo: 'Run "OAuth Anywhere: Configure" or correct the setting named above.',
    settings: true,
  },
  metadata_incomplete: {
    happened: "The identity provider's metadata lacks what this sign-in needs.",
    todo: 'Name the missing endpoint in "OAuth Anywhere: Endpoints"; Troubleshoot lists what the identity provider offers.',
    settings: true,
  },
  port_in_use: {
    happened: "The sign-in's fixed loopback port is taken, most likely by another sign-in in progress in this or another VS Code window.",
    todo: 'Finish or cancel that sign-in first, or sign in with a code, which needs no port ("OAuth Anywhere: Flow" set to "device"). If another program holds the port, set "OAuth Anywhere: Loopback Port" to a free port and register http://127.0.0.1:PORT/callback with the identity provider.',
    settings: true,
  },
  port_unavailable: {
    happened: 'The sign-in could not listen on its loopback port.',
    todo: 'Set "OAuth Anywhere: Loopback Port" to a free port from 1024 up, and register http://127.0.0.1:PORT/callback if the identity provider compares redirect addresses exactly. 0 picks any free port, except with the Okta and GitLab presets, where it means their port 28130.',
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
  unexpected: {
    happened: 'The sign-in failed in an unexpected way.',
    todo: 'Show Log has the details, and Troubleshoot shows whether the setup is sound.',
  },
};

/** The part of a notification the core's message may take: VS Code cuts messages at 1000 characters. */
const maxDetailLength = 600;

/**
 * The notification for a failed sign-in: what happened, the core's facts, what to do, and the
 * buttons. Undefined for a cancel, which is no failure. The facts are shown as plain text: they can
 * quote the identity provider, and VS Code renders `[label](command:…)` in notifications as a link.
 */
export function signInFailureMessage(reason: FailureReason, detail: string, t: Translate): SignInFailureMessage | undefined {
  if (reason === 'cancelled') return undefined;
  const text = reasonTexts[reason] ?? reasonTexts.unexpected;
  const actions: ErrorAction[] = text.settings ? ['configure', 'troubleshoot', 'showLog'] : ['troubleshoot', 'showLog'];
  // l10n.t('...'): the form scripts/l10nBundle.mjs finds; the table's texts it reads from reasonTexts.
  const l10n = { t };
  return { message: l10n.t('OAuth Anywhere sign-in failed: {0} {1} {2}', t(text.happened), notificationText(detail, maxDetailLength), t(text.todo)), actions };
}

/** Every reason with a text, for the test that proves none is missing. */
export const explainedReasons = Object.keys(reasonTexts) as Array<Exclude<FailureReason, 'cancelled'>>;
