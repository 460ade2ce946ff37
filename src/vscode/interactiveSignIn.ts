import type { SignInRequest } from '../auth/sessionManager.js';
import type { ExtensionSettings } from '../config.js';
import type { CallbackPages } from '../oauth/callbackPages.js';
import { chooseFlow, type Environment, type FlowChoice } from '../oauth/chooseFlow.js';
import type { OAuthClient } from '../oauth/client.js';
import { signInWithDeviceGrant, type DeviceGrantOptions } from '../oauth/deviceGrant.js';
import { isOAuthError, OAuthError, reasonOf, errorText } from '../oauth/errors.js';
import { signInWithLoopback, type PasteEntry } from '../oauth/loopback.js';
import type { Logger, SignInResult } from '../oauth/types.js';
import type { Translate } from './errorMessages.js';
import { fallbackFor, planBrowserFallback, type BrowserFallbackPlan } from './fallbackPlan.js';
import { finalStates, SignInMachine, type SignInEvent, type SignInState } from './signInMachine.js';
import { renderSignIn, type SignInSurfaces } from './signInView.js';

// The interactive sign-in without VS Code: it chooses the flow, starts the OAuth core's halves,
// turns what they report into the machine's events and renders the machine's states on the surfaces
// it is given. signIn.ts hands it VS Code's surfaces, port forwarding and browser; the tests hand it
// their own and sign in against the real test identity provider.

/** The client as the shell holds it: built on first use (lazyClient.ts). */
export interface LoadableClient {
  readonly issuer: URL;
  load(): Promise<OAuthClient>;
}

export interface InteractiveSignInDependencies {
  client: LoadableClient;
  settings: Pick<ExtensionSettings, 'flow' | 'loopbackPort'>;
  environment: Environment;
  /** The pages shown after the loopback redirect, read from media/ only when a browser sign-in runs. */
  pages(): CallbackPages;
  logger: Logger;
  /** The raw `browserCheckSeconds` setting: a number, or null/undefined when not set. */
  browserCheckSeconds: unknown;
  surfaces: SignInSurfaces;
  /** vscode.l10n.t in VS Code. */
  t: Translate;
  /** VS Code's port forwarding (env.asExternalUri): the address the browser reaches a local one at. */
  asExternalUri(localUri: string): Promise<string>;
  /** Opens an address of the identity provider in the browser; false when no browser could be opened. */
  openBrowser(url: string): Promise<boolean>;
  /** Tests against the local test identity provider lower its polling floor; the extension never sets it. */
  deviceGrant?: Pick<DeviceGrantOptions, 'minimumIntervalMs'>;
}

/**
 * How long after the browser went on to the identity provider (through /start) the waiting
 * notification says that the identity provider may refuse the redirect URI: long enough for a
 * password and a second factor.
 */
const noReturnHintMs = 60_000;

/**
 * The interactive sign-in: picks the flow for where VS Code runs and what the IdP offers, and runs it
 * as the state machine of signInMachine.ts, shown by signInView.ts one surface at a time. A browser
 * sign-in leaves the browser by itself when the browser never reaches this machine's /start or its
 * port cannot be opened, and when asked: for the device grant where the IdP offers it, else for
 * pasting the address the browser was sent to. Cancel, anywhere and at any time, ends it at once.
 */
export function runInteractiveSignIn(request: SignInRequest, deps: InteractiveSignInDependencies): Promise<SignInResult> {
  return new SignInAttempt(request, deps).run();
}

/** How the browser reaches the callback server from a remote. */
interface Forward {
  redirectUri: string;
  /** 'kept': a forward with the same path the IdP accepts; otherwise the direct redirect is kept. */
  path: 'kept' | 'moved' | 'failed';
  /** The Host the forward delivers requests with, when it moves the path (code-server's /proxy/PORT/). */
  movedAuthority?: string;
}

class SignInAttempt {
  private readonly machine: SignInMachine;
  /** Aborted once the machine ended (done, failed or cancelled), to stop whatever still runs. */
  private readonly controller = new AbortController();
  private plan: BrowserFallbackPlan | undefined;
  private paste: PasteEntry | undefined;
  /** Why the browser sign-in could not listen, when that made it leave for a code. */
  private portError: unknown;

  constructor(
    private readonly request: SignInRequest,
    private readonly deps: InteractiveSignInDependencies,
  ) {
    this.machine = new SignInMachine(deps.logger);
  }

  async run(): Promise<SignInResult> {
    const { machine, deps } = this;
    const view = renderSignIn(machine, { surfaces: deps.surfaces, t: deps.t, issuerHost: deps.client.issuer.host, plan: () => this.plan, pasteEntry: () => this.paste });
    machine.watch((state) => {
      if (finalStates.includes(state.name) && !this.controller.signal.aborted) this.controller.abort(endReason(state));
    });
    const unfollow = this.followCaller();
    this.start().catch((error: unknown) => machine.dispatch({ type: 'startFailed', error }));
    try {
      return await machine.ended;
    } finally {
      unfollow();
      await view.closed();
    }
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * The one who asked for the sign-in went away (a terminal tool stopped with Ctrl+C): it is
   * cancelled. Returns the way to stop listening, so a long-lived signal does not keep a finished
   * sign-in alive.
   */
  private followCaller(): () => void {
    const { signal } = this.request;
    const cancel = () => this.machine.dispatch({ type: 'cancelled', error: new OAuthError('cancelled', 'The sign-in was cancelled by the one who asked for it.') });
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', cancel, { once: true });
    return () => signal?.removeEventListener('abort', cancel);
  }

  private async start(): Promise<void> {
    const { deps } = this;
    const client = await deps.client.load();
    const capabilities = await client.capabilities(this.signal);
    // capabilities() rejects once aborted; this also covers an answer that was cached.
    if (this.signal.aborted) return;
    const choice = chooseFlow(deps.environment, capabilities, deps.settings.flow);
    deps.logger.info(`Sign-in flow: ${choice.flows.join(', then ') || 'none'}. Why: ${choice.reason}`);
    const [first] = choice.flows;
    if (!first) throw new OAuthError('unsupported', `The identity provider at ${client.issuer.href} offers no sign-in flow this extension can use (${choice.reason}).`);
    if (first === 'device') {
      this.startCode(client);
      return;
    }
    const plan = planBrowserFallback(choice, capabilities, deps.settings.flow, deps.browserCheckSeconds);
    this.plan = plan;
    deps.logger.info(
      `Browser sign-in: ${plan.browserCheckMs ? `the browser must reach this machine within ${plan.browserCheckMs / 1000} s` : 'no browser check'}; when it is elsewhere: ${plan.fallback === 'device' ? 'the device grant' : 'paste the redirected address'}.`,
    );
    this.machine.watch((state) => {
      if (state.name === 'browserLeft') this.leaveBrowser(client, state.because);
    });
    this.startBrowser(client, choice, plan);
  }

  /** Starts the fallback of a browser sign-in that was left. */
  private leaveBrowser(client: OAuthClient, because: Extract<SignInState, { name: 'browserLeft' }>['because']): void {
    const toward = fallbackFor(this.plan);
    this.deps.logger.info(`Leaving the browser sign-in (${because}) for ${toward === 'device' ? 'the device grant' : 'the paste step'}.`);
    if (toward === 'device') this.startCode(client);
    else if (this.paste) this.machine.dispatch({ type: 'pasteReady' });
    // Else the address to paste is still being prepared (port forwarding): onPasteReady moves on.
  }

  /** Where the sign-in goes from its current state when the browser sign-in ends: a code, a paste, or nowhere else. */
  private towardNow(): 'device' | 'paste' | undefined {
    const state = this.machine.state;
    if (state.name === 'browserLeft') return fallbackFor(this.plan);
    if (state.name === 'codeShown') return 'device';
    if (state.name === 'pasteAsked') return 'paste';
    return undefined;
  }

  /** The loopback sign-in, reporting to the machine; the callback server keeps listening after a switch to a code. */
  private startBrowser(client: OAuthClient, choice: FlowChoice, plan: BrowserFallbackPlan): void {
    const { deps, request, machine } = this;
    let forward: Forward | undefined;
    const loopback = signInWithLoopback(client, {
      scopes: request.scopes,
      loginHint: request.loginHint,
      pages: deps.pages(),
      port: deps.settings.loopbackPort,
      signal: this.signal,
      logger: deps.logger,
      forwardRedirect: choice.forwardLoopback
        ? async (uri) => {
            forward = await forwardThroughVsCode(uri, (local) => deps.asExternalUri(local), deps.logger);
            return forward.redirectUri;
          }
        : undefined,
      // Where the forward moves the path, the browser's way to this machine cannot be checked, and
      // pasting is offered from the start when it is the fallback.
      browserCheck: () =>
        plan.browserCheckMs === undefined || (forward?.path !== 'kept' && forward !== undefined && plan.fallback === 'paste')
          ? undefined
          : { timeoutMs: plan.browserCheckMs, onMissed: () => machine.dispatch({ type: 'checkMissed' }), forwardedAuthority: forward?.movedAuthority },
      onPasteReady: (entry) => {
        this.paste = entry;
        // Asked to paste before the address existed: the paste box comes now.
        if (machine.state.name === 'browserLeft' && this.towardNow() === 'paste') machine.dispatch({ type: 'pasteReady' });
      },
      noReturn: { afterMs: noReturnHintMs, notify: (redirectUri) => machine.dispatch({ type: 'noReturnNoticed', redirectUri }) },
      openBrowser: async (url) => {
        if (this.towardNow() === 'device') {
          // Asked for a code before the browser opened: the person's browser is elsewhere. "Not
          // opened" ends the browser half, which frees its port (a preset's fixed port) at once;
          // the machine, already on the code, ignores that end.
          deps.logger.info('Not opening the browser: the sign-in went on with a code.');
          return false;
        }
        const opened = await deps.openBrowser(url);
        if (!opened && plan.fallback === 'paste') {
          // The listener stays: the person opens the copied address in any browser and pastes the result.
          machine.dispatch({ type: 'browserUnavailable' });
          return true;
        }
        if (opened && forward && forward.path !== 'kept' && plan.fallback === 'paste') machine.dispatch({ type: 'redirectNotForwarded' });
        return opened;
      },
    });
    machine.dispatch({ type: 'browserStarted' });
    loopback.then(
      (result) => machine.dispatch({ type: 'signedIn', result }),
      (error: unknown) => {
        const event = browserEndedEvent(error, { awaitingPaste: machine.state.name === 'browserLeft' && this.towardNow() === 'paste', fallback: plan.fallback });
        if (event.type === 'portUnavailable') this.portError = error;
        machine.dispatch(event);
      },
    );
  }

  /** The device grant, on its own or as the browser sign-in's fallback, reporting to the machine. */
  private startCode(client: OAuthClient): void {
    const { deps, request, machine } = this;
    signInWithDeviceGrant(client, { ...deps.deviceGrant, scopes: request.scopes, onPrompt: (prompt) => machine.dispatch({ type: 'codeReady', prompt }), signal: this.signal, logger: deps.logger }).then(
      (result) => machine.dispatch({ type: 'signedIn', result }),
      (error: unknown) => {
        if (isOAuthError(error, 'cancelled')) {
          machine.dispatch({ type: 'cancelled', error });
          return;
        }
        // A code that never came after the port could not be opened: the port is the cause to fix
        // (its advice names the other sign-in and the setting); the code's failure goes to the log.
        if (this.portError !== undefined && machine.state.name === 'browserLeft') {
          deps.logger.warn(`Signing in with a code instead failed too: ${errorText(error)}`);
          machine.dispatch({ type: 'codeFailed', error: this.portError });
          return;
        }
        machine.dispatch({ type: 'codeFailed', error });
      },
    );
  }
}

/** Why whatever still runs is stopped once the sign-in ended. */
function endReason(state: SignInState): OAuthError {
  if (state.name === 'cancelled' && isOAuthError(state.error, 'cancelled')) return state.error;
  return new OAuthError('cancelled', 'The sign-in finished another way.');
}

/**
 * What the browser sign-in's failure means for the sign-in.
 * - Cancelled: cancelled (once the sign-in ended, nothing changes).
 * - Left for pasting before the address existed (`awaitingPaste`): it will never come; the sign-in
 *   fails with the real cause.
 * - Its port cannot be opened (a fixed port another sign-in holds) and the device grant is the plan's
 *   fallback: a code instead, saying why. Not for `flow: "loopback"` without a browser check: the
 *   person chose the browser, and the port's own error says what to do.
 * - No browser, with the device grant as the fallback: a code instead.
 * - Otherwise the browser sign-in's failure (which changes nothing once a code is shown).
 */
export function browserEndedEvent(error: unknown, situation: { awaitingPaste: boolean; fallback: 'device' | 'paste' }): SignInEvent {
  if (isOAuthError(error, 'cancelled')) return { type: 'cancelled', error };
  if (situation.awaitingPaste) return { type: 'nothingToPaste', error };
  const reason = reasonOf(error);
  if ((reason === 'port_in_use' || reason === 'port_unavailable') && situation.fallback === 'device') return { type: 'portUnavailable', error };
  if (isOAuthError(error, 'browser_unavailable') && situation.fallback === 'device') return { type: 'browserUnavailable' };
  return { type: 'browserFailed', error };
}

/**
 * In a remote, the browser reaches the callback server through VS Code's port forwarding. A forward
 * that moves the path (code-server's `/proxy/PORT/`) yields a redirect URI no identity provider can
 * have registered, so then the direct one is kept: it works whenever the browser shares the machine.
 */
async function forwardThroughVsCode(localRedirectUri: string, asExternalUri: (uri: string) => Promise<string>, logger: Logger): Promise<Forward> {
  const local = new URL(localRedirectUri);
  let external: URL;
  try {
    external = new URL(await asExternalUri(localRedirectUri));
  } catch (error) {
    logger.warn(`Port forwarding for the sign-in redirect failed (${errorText(error)}); keeping ${localRedirectUri}.`);
    return { redirectUri: localRedirectUri, path: 'failed' };
  }
  if (external.pathname !== local.pathname) {
    logger.info(`Port forwarding would move the callback to ${external.protocol}//${external.host}${external.pathname}; keeping ${localRedirectUri}.`);
    return { redirectUri: localRedirectUri, path: 'moved', movedAuthority: external.host };
  }
  return { redirectUri: external.href, path: 'kept' };
}
