import * as vscode from 'vscode';
import type { SignInRequest, SignInRunner } from '../auth/sessionManager.js';
import type { ExtensionSettings } from '../config.js';
import type { CallbackPages } from '../oauth/callbackPages.js';
import { chooseFlow, type Environment, type FlowChoice } from '../oauth/chooseFlow.js';
import type { OAuthClient } from '../oauth/client.js';
import { signInWithDeviceGrant, type DeviceCodePrompt } from '../oauth/deviceGrant.js';
import { isOAuthError, OAuthError } from '../oauth/errors.js';
import { signInWithLoopback } from '../oauth/loopback.js';
import type { Logger, SignInResult } from '../oauth/types.js';
import type { PromptActions } from './prompts.js';

export interface SignInDependencies {
  client: OAuthClient;
  settings: ExtensionSettings;
  environment: Environment;
  pages: CallbackPages;
  prompts: PromptActions;
  logger: Logger;
}

/** Why a loopback sign-in stopped when the user picked "Use a code instead". */
const switchedToCode = new OAuthError('cancelled', 'Switched to signing in with a code.');

/**
 * The interactive sign-in: picks the flow for where VS Code runs and what the IdP offers, runs it
 * with its notification, and falls back from loopback to the device grant when the user asks or no
 * browser can be opened.
 */
export function createSignInRunner(deps: SignInDependencies): SignInRunner {
  return async (request) => {
    const choice = chooseFlow(deps.environment, await deps.client.capabilities(), deps.settings.flow);
    deps.logger.info(`Sign-in flow: ${choice.flows.join(', then ') || 'none'}. Why: ${choice.reason}`);
    const [first] = choice.flows;
    if (!first) throw new OAuthError('unsupported', `The identity provider at ${deps.client.issuer.href} offers no sign-in flow this extension can use (${choice.reason})`);
    if (first === 'device') return signInWithCode(deps, request);
    try {
      return await signInWithBrowser(deps, request, choice);
    } catch (error) {
      const canSwitch = choice.flows.includes('device');
      if (canSwitch && (error === switchedToCode || isOAuthError(error, 'browser_unavailable'))) {
        deps.logger.info(error === switchedToCode ? 'Switching to the device grant, as asked.' : 'No browser could be opened; switching to the device grant.');
        return signInWithCode(deps, request);
      }
      throw error;
    }
  };
}

async function signInWithBrowser(deps: SignInDependencies, request: SignInRequest, choice: FlowChoice): Promise<SignInResult> {
  const controller = new AbortController();
  const offerCode = choice.flows.includes('device') ? () => controller.abort(switchedToCode) : undefined;
  const task = signInWithLoopback(deps.client, {
    scopes: request.scopes,
    loginHint: request.loginHint,
    pages: deps.pages,
    port: deps.settings.loopbackPort,
    signal: controller.signal,
    logger: deps.logger,
    openBrowser: (url) => Promise.resolve(vscode.env.openExternal(vscode.Uri.parse(url, true))),
    forwardRedirect: choice.forwardLoopback ? (uri) => forwardThroughVsCode(uri, deps.logger) : undefined,
  });
  return deps.prompts.withBrowserWait(deps.client.issuer.host, offerCode, controller, task);
}

/**
 * In a remote, the browser reaches the callback server through VS Code's port forwarding. A forward
 * that moves the path (code-server's `/proxy/PORT/`) yields a redirect URI no identity provider can
 * have registered, so then the direct one is kept: it works whenever the browser shares the machine.
 */
async function forwardThroughVsCode(localRedirectUri: string, logger: Logger): Promise<string> {
  const local = vscode.Uri.parse(localRedirectUri, true);
  const external = await vscode.env.asExternalUri(local);
  if (external.path !== local.path) {
    logger.info(`Port forwarding would move the callback to ${external.scheme}://${external.authority}${external.path}; keeping ${localRedirectUri}.`);
    return localRedirectUri;
  }
  return external.toString(true);
}

async function signInWithCode(deps: SignInDependencies, request: SignInRequest): Promise<SignInResult> {
  const controller = new AbortController();
  let showPrompt!: (prompt: DeviceCodePrompt) => void;
  const prompted = new Promise<DeviceCodePrompt>((resolve) => (showPrompt = resolve));
  const task = signInWithDeviceGrant(deps.client, { scopes: request.scopes, onPrompt: showPrompt, signal: controller.signal, logger: deps.logger });
  // The device authorization request can fail before there is a code to show.
  const prompt = await Promise.race([prompted, task.then(() => prompted)]);
  return deps.prompts.withDeviceCode(prompt, controller, task);
}
