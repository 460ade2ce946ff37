import * as vscode from 'vscode';
import type { SignInRequest, SignInRunner } from '../auth/sessionManager.js';
import { settingsSection, type ExtensionSettings } from '../config.js';
import type { CallbackPages } from '../oauth/callbackPages.js';
import { chooseFlow, type Environment, type FlowChoice } from '../oauth/chooseFlow.js';
import type { OAuthClient } from '../oauth/client.js';
import { signInWithDeviceGrant, type DeviceCodePrompt } from '../oauth/deviceGrant.js';
import { cancelled, isOAuthError, OAuthError } from '../oauth/errors.js';
import { signInWithLoopback, type PasteEntry } from '../oauth/loopback.js';
import type { Logger, SignInResult } from '../oauth/types.js';
import { planBrowserFallback, type BrowserFallbackPlan } from './fallbackPlan.js';
import { openIdentityProviderPage } from './openExternal.js';
import { askForPastedResponse } from './pasteBox.js';
import type { PromptActions } from './prompts.js';

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

/** Why a browser sign-in left the browser: the person asked, the browser never arrived, or it can only be pasted. */
type Turn = 'asked' | 'missed' | 'no-browser' | 'paste-now';

/** Stops the other half of a sign-in once one half finished it. */
const finishedElsewhere = new OAuthError('cancelled', 'The sign-in finished another way.');

/**
 * How long after the browser went on to the identity provider (through /start) the waiting
 * notification says that the identity provider may refuse the redirect URI: long enough for a
 * password and a second factor.
 */
const noReturnHintMs = 60_000;

/**
 * The interactive sign-in: picks the flow for where VS Code runs and what the IdP offers, and runs it
 * with one notification (or input box) at a time. A browser sign-in leaves the browser by itself when
 * the browser never reaches this machine's /start, and when asked: for the device grant where the IdP
 * offers it, else for pasting the address the browser was sent to. Whatever the path, one Cancel ends
 * all of it.
 */
export function createSignInRunner(deps: SignInDependencies): SignInRunner {
  return async (request) => {
    const client = await deps.client.load();
    const capabilities = await client.capabilities();
    const choice = chooseFlow(deps.environment, capabilities, deps.settings.flow);
    deps.logger.info(`Sign-in flow: ${choice.flows.join(', then ') || 'none'}. Why: ${choice.reason}`);
    const [first] = choice.flows;
    if (!first) throw new OAuthError('unsupported', `The identity provider at ${client.issuer.href} offers no sign-in flow this extension can use (${choice.reason}).`);
    if (first === 'device') return signInWithCode({ deps, client, request, controller: controllerFor(request) });
    const plan = planBrowserFallback(choice, capabilities, deps.settings.flow, browserCheckSetting(deps));
    deps.logger.info(
      `Browser sign-in: ${plan.browserCheckMs ? `the browser must reach this machine within ${plan.browserCheckMs / 1000} s` : 'no browser check'}; when it is elsewhere: ${plan.fallback === 'device' ? 'the device grant' : 'paste the redirected address'}.`,
    );
    return signInWithBrowser({ deps, client, request, controller: controllerFor(request) }, choice, plan);
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

async function signInWithBrowser(attempt: Attempt, choice: FlowChoice, plan: BrowserFallbackPlan): Promise<SignInResult> {
  const { deps, client, request, controller } = attempt;
  let turn!: (why: Turn) => void;
  const turned = new Promise<Turn>((resolve) => (turn = resolve));
  let forward: Forward | undefined;
  let paste: PasteEntry | undefined;
  let noReturn!: (redirectUri: string) => void;
  const notReturned = new Promise<string>((resolve) => (noReturn = resolve));

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
        : { timeoutMs: plan.browserCheckMs, onMissed: () => turn('missed'), forwardedAuthority: forward?.movedAuthority },
    onPasteReady: (entry) => (paste = entry),
    noReturn: { afterMs: noReturnHintMs, notify: noReturn },
    openBrowser: async (url) => {
      const opened = await openIdentityProviderPage(url, 'authorization_endpoint');
      if (!opened && plan.fallback === 'paste') {
        // The listener stays: the person opens the copied address in any browser and pastes the result.
        turn('no-browser');
        return true;
      }
      if (opened && forward && forward.path !== 'kept' && plan.fallback === 'paste') turn('paste-now');
      return opened;
    },
  });
  loopback.catch(() => undefined);

  try {
    const waited = await deps.prompts.withBrowserWait(
      {
        issuerHost: client.issuer.host,
        switchTo: { kind: plan.fallback, run: () => turn('asked') },
        checkSeconds: plan.browserCheckMs === undefined ? undefined : plan.browserCheckMs / 1000,
        noReturn: notReturned,
      },
      controller,
      Promise.race([
        loopback.then(
          (result) => ({ result }),
          (error: unknown) => {
            if (isOAuthError(error, 'browser_unavailable') && plan.fallback === 'device') return { turn: 'no-browser' as const };
            throw error;
          },
        ),
        turned.then((why) => ({ turn: why })),
      ]),
    );
    if ('result' in waited) return waited.result;
    deps.logger.info(`Leaving the browser sign-in (${waited.turn}) for ${plan.fallback === 'device' ? 'the device grant' : 'the paste step'}.`);
    const because = turnExplained(waited.turn, plan);
    if (plan.fallback === 'device') return await signInWithCode(attempt, { because, alsoWaitFor: loopback });
    if (!paste) throw new OAuthError('browser_unavailable', 'The browser sign-in could not be started, so there is nothing to paste.');
    return await askForPastedResponse({ issuerHost: client.issuer.host, because, entry: paste, controller, outcome: loopback });
  } finally {
    if (!controller.signal.aborted) controller.abort(finishedElsewhere);
  }
}

function turnExplained(turn: Turn, plan: BrowserFallbackPlan): string {
  const seconds = (plan.browserCheckMs ?? 0) / 1000;
  if (plan.fallback === 'device') {
    switch (turn) {
      case 'missed':
        return vscode.l10n.t("Your browser did not open VS Code's sign-in page within {0} s, so it is probably on another device: signing in with a code instead.", seconds);
      case 'no-browser':
        return vscode.l10n.t('No browser could be opened here: signing in with a code instead.');
      default:
        return vscode.l10n.t('Signing in with a code instead of the browser.');
    }
  }
  switch (turn) {
    case 'missed':
      return vscode.l10n.t("Your browser did not open VS Code's sign-in page within {0} s, so it is probably on another device, and this identity provider offers no sign-in with a code.", seconds);
    case 'no-browser':
      return vscode.l10n.t('No browser could be opened here. Copy the sign-in address (button above), open it in any browser and approve.');
    case 'paste-now':
      return vscode.l10n.t("VS Code cannot forward this sign-in's redirect to your browser's machine. Approve the sign-in in the browser.");
    default:
      return vscode.l10n.t('Approve the sign-in in your browser.');
  }
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

/**
 * The device grant, on its own or as the browser sign-in's fallback: then the callback server keeps
 * listening too (a slow browser may still arrive), the first to finish wins, and only the device
 * grant's failure ends the sign-in.
 */
async function signInWithCode(attempt: Attempt, handoff?: { because: string; alsoWaitFor: Promise<SignInResult> }): Promise<SignInResult> {
  const { deps, client, request, controller } = attempt;
  let showPrompt!: (prompt: DeviceCodePrompt) => void;
  const prompted = new Promise<DeviceCodePrompt>((resolve) => (showPrompt = resolve));
  const device = signInWithDeviceGrant(client, { scopes: request.scopes, onPrompt: showPrompt, signal: controller.signal, logger: deps.logger });
  device.catch(() => undefined);
  try {
    // The device authorization request can fail before there is a code to show.
    const prompt = await Promise.race([prompted, device.then(() => prompted)]);
    const task = handoff
      ? new Promise<SignInResult>((resolve, reject) => {
          device.then(resolve, reject);
          handoff.alsoWaitFor.then(resolve, () => undefined);
        })
      : device;
    return await deps.prompts.withDeviceCode(prompt, controller, task, handoff?.because);
  } finally {
    if (!controller.signal.aborted) controller.abort(finishedElsewhere);
  }
}

function browserCheckSetting(deps: SignInDependencies): unknown {
  if (deps.browserCheckSeconds !== undefined) return deps.browserCheckSeconds;
  return vscode.workspace.getConfiguration(settingsSection).get('browserCheckSeconds');
}
