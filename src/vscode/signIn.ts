import * as vscode from 'vscode';
import type { SignInRequest, SignInRunner } from '../auth/sessionManager.js';
import { settingsSection, type ExtensionSettings } from '../config.js';
import type { CallbackPages } from '../oauth/callbackPages.js';
import { chooseFlow, type Environment, type FlowChoice } from '../oauth/chooseFlow.js';
import type { OAuthClient } from '../oauth/client.js';
import { signInWithDeviceGrant } from '../oauth/deviceGrant.js';
import { cancelled, isOAuthError, OAuthError } from '../oauth/errors.js';
import { signInWithLoopback, type PasteEntry } from '../oauth/loopback.js';
import type { Logger, SignInResult } from '../oauth/types.js';
import { planBrowserFallback, type BrowserFallbackPlan } from './fallbackPlan.js';
import { openIdentityProviderPage } from './openExternal.js';
import type { PromptActions } from './prompts.js';
import { SignInMachine } from './signInMachine.js';
import { renderSignIn } from './signInView.js';

/** The client as the shell holds it: built on first use (lazyClient.ts). */
export interface LoadableClient {
  readonly issuer: URL;
  load(): Promise<OAuthClient>;
}

export interface SignInDependencies {
  client: LoadableClient;
  settings: ExtensionSettings;
  environment: Environment;
  /** The pages shown after the loopback redirect, read from media/ only when a browser sign-in runs. */
  pages(): CallbackPages;
  prompts: PromptActions;
  logger: Logger;
  /**
   * The raw `browserCheckSeconds` setting of this provider: a number, or null/undefined when not set
   * (then it is read from `oauthAnywhere.browserCheckSeconds` at sign-in time).
   */
  browserCheckSeconds?: unknown;
}

/**
 * How long after the browser went on to the identity provider (through /start) the waiting
 * notification says that the identity provider may refuse the redirect URI: long enough for a
 * password and a second factor.
 */
const noReturnHintMs = 60_000;

/**
 * The interactive sign-in: picks the flow for where VS Code runs and what the IdP offers, and runs it
 * as the state machine of signInMachine.ts, which signInView.ts shows one surface at a time. A browser
 * sign-in leaves the browser by itself when the browser never reaches this machine's /start, and when
 * asked: for the device grant where the IdP offers it, else for pasting the address the browser was
 * sent to. Whatever the path, one Cancel ends all of it.
 */
export function createSignInRunner(deps: SignInDependencies): SignInRunner {
  return async (request) => {
    const client = await deps.client.load();
    const capabilities = await client.capabilities();
    const choice = chooseFlow(deps.environment, capabilities, deps.settings.flow);
    deps.logger.info(`Sign-in flow: ${choice.flows.join(', then ') || 'none'}. Why: ${choice.reason}`);
    const [first] = choice.flows;
    if (!first) throw new OAuthError('unsupported', `The identity provider at ${client.issuer.href} offers no sign-in flow this extension can use (${choice.reason}).`);
    const attempt = { deps, client, request, controller: controllerFor(request) };
    if (first === 'device') return runSignIn(attempt, undefined);
    const plan = planBrowserFallback(choice, capabilities, deps.settings.flow, browserCheckSetting(deps));
    deps.logger.info(
      `Browser sign-in: ${plan.browserCheckMs ? `the browser must reach this machine within ${plan.browserCheckMs / 1000} s` : 'no browser check'}; when it is elsewhere: ${plan.fallback === 'device' ? 'the device grant' : 'paste the redirected address'}.`,
    );
    return runSignIn(attempt, { choice, plan });
  };
}

/** The sign-in's own controller, aborted too when the request's signal is (its caller went away). */
function controllerFor(request: SignInRequest): AbortController {
  const controller = new AbortController();
  const { signal } = request;
  if (signal?.aborted) controller.abort(cancelled());
  else signal?.addEventListener('abort', () => controller.abort(cancelled()), { once: true });
  return controller;
}

interface Attempt {
  deps: SignInDependencies;
  client: OAuthClient;
  request: SignInRequest;
  /** Aborted by Cancel (anywhere), and once the sign-in ended, to stop whatever still runs. */
  controller: AbortController;
}

interface BrowserStart {
  choice: FlowChoice;
  plan: BrowserFallbackPlan;
}

/**
 * Starts the first flow and turns what the core reports into the machine's events; once the browser
 * sign-in is left, starts its fallback. Returns when the machine ended and its last surface is gone.
 */
async function runSignIn(attempt: Attempt, browser: BrowserStart | undefined): Promise<SignInResult> {
  const { deps, client, controller } = attempt;
  const machine = new SignInMachine(deps.logger);
  let paste: PasteEntry | undefined;
  const view = renderSignIn(machine, { prompts: deps.prompts, controller, issuerHost: client.issuer.host, plan: browser?.plan, pasteEntry: () => paste });
  if (browser) {
    const { plan } = browser;
    machine.watch((state) => {
      if (state.name !== 'browserLeft') return;
      deps.logger.info(`Leaving the browser sign-in (${state.because}) for ${plan.fallback === 'device' ? 'the device grant' : 'the paste step'}.`);
      if (plan.fallback === 'device') startCode(attempt, machine);
      else if (paste) machine.dispatch({ type: 'pasteReady' });
      else machine.dispatch({ type: 'nothingToPaste', error: new OAuthError('browser_unavailable', 'The browser sign-in could not be started, so there is nothing to paste.') });
    });
    startBrowser(attempt, browser, machine, (entry) => (paste = entry));
  } else {
    startCode(attempt, machine);
  }
  try {
    return await machine.ended;
  } finally {
    await view.closed();
    // Stops the other half (the callback server still listening, or the polling) once one half finished.
    if (!controller.signal.aborted) controller.abort(new OAuthError('cancelled', 'The sign-in finished another way.'));
  }
}

/** The loopback sign-in, reporting to the machine; the callback server keeps listening after a switch to a code. */
function startBrowser(attempt: Attempt, { choice, plan }: BrowserStart, machine: SignInMachine, onPasteReady: (entry: PasteEntry) => void): void {
  const { deps, client, request, controller } = attempt;
  let forward: Forward | undefined;
  const loopback = signInWithLoopback(client, {
    scopes: request.scopes,
    loginHint: request.loginHint,
    pages: deps.pages(),
    port: deps.settings.loopbackPort,
    signal: controller.signal,
    logger: deps.logger,
    forwardRedirect: choice.forwardLoopback
      ? async (uri) => {
          forward = await forwardThroughVsCode(uri, deps.logger);
          return forward.redirectUri;
        }
      : undefined,
    // Where the forward moves the path, the browser's way to this machine cannot be checked, and
    // pasting is offered from the start when it is the fallback.
    browserCheck: () =>
      plan.browserCheckMs === undefined || (forward?.path !== 'kept' && forward !== undefined && plan.fallback === 'paste')
        ? undefined
        : { timeoutMs: plan.browserCheckMs, onMissed: () => machine.dispatch({ type: 'checkMissed' }), forwardedAuthority: forward?.movedAuthority },
    onPasteReady,
    noReturn: { afterMs: noReturnHintMs, notify: (redirectUri) => machine.dispatch({ type: 'noReturnNoticed', redirectUri }) },
    openBrowser: async (url) => {
      const opened = await openIdentityProviderPage(url, 'authorization_endpoint');
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
      if (isOAuthError(error, 'cancelled')) machine.dispatch({ type: 'cancelled', error });
      else if (isOAuthError(error, 'browser_unavailable') && plan.fallback === 'device') machine.dispatch({ type: 'browserUnavailable' });
      else machine.dispatch({ type: 'browserFailed', error });
    },
  );
}

/** The device grant, on its own or as the browser sign-in's fallback, reporting to the machine. */
function startCode(attempt: Attempt, machine: SignInMachine): void {
  const { deps, client, request, controller } = attempt;
  signInWithDeviceGrant(client, { scopes: request.scopes, onPrompt: (prompt) => machine.dispatch({ type: 'codeReady', prompt }), signal: controller.signal, logger: deps.logger }).then(
    (result) => machine.dispatch({ type: 'signedIn', result }),
    (error: unknown) => machine.dispatch(isOAuthError(error, 'cancelled') ? { type: 'cancelled', error } : { type: 'codeFailed', error }),
  );
}

/** How the browser reaches the callback server from a remote. */
interface Forward {
  redirectUri: string;
  /** 'kept': a forward with the same path the IdP accepts; otherwise the direct redirect is kept. */
  path: 'kept' | 'moved' | 'failed';
  /** The Host the forward delivers requests with, when it moves the path (code-server's /proxy/PORT/). */
  movedAuthority?: string;
}

/**
 * In a remote, the browser reaches the callback server through VS Code's port forwarding. A forward
 * that moves the path (code-server's `/proxy/PORT/`) yields a redirect URI no identity provider can
 * have registered, so then the direct one is kept: it works whenever the browser shares the machine.
 */
async function forwardThroughVsCode(localRedirectUri: string, logger: Logger): Promise<Forward> {
  const local = vscode.Uri.parse(localRedirectUri, true);
  let external: vscode.Uri;
  try {
    external = await vscode.env.asExternalUri(local);
  } catch (error) {
    logger.warn(`Port forwarding for the sign-in redirect failed (${error instanceof Error ? error.message : String(error)}); keeping ${localRedirectUri}.`);
    return { redirectUri: localRedirectUri, path: 'failed' };
  }
  if (external.path !== local.path) {
    logger.info(`Port forwarding would move the callback to ${external.scheme}://${external.authority}${external.path}; keeping ${localRedirectUri}.`);
    return { redirectUri: localRedirectUri, path: 'moved', movedAuthority: external.authority };
  }
  return { redirectUri: external.toString(true), path: 'kept' };
}

function browserCheckSetting(deps: SignInDependencies): unknown {
  if (deps.browserCheckSeconds !== undefined) return deps.browserCheckSeconds;
  return vscode.workspace.getConfiguration(settingsSection).get('browserCheckSeconds');
}
