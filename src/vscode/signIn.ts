import * as vscode from 'vscode';
import type { SignInRunner } from '../auth/sessionManager.js';
import { settingsSection, type ExtensionSettings } from '../config.js';
import type { CallbackPages } from '../oauth/callbackPages.js';
import type { Environment } from '../oauth/chooseFlow.js';
import type { Logger } from '../oauth/types.js';
import { runInteractiveSignIn, type LoadableClient } from './interactiveSignIn.js';
import { openIdentityProviderPage } from './openExternal.js';
import type { PromptActions } from './prompts.js';

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
 * The interactive sign-in in VS Code: interactiveSignIn.ts with VS Code's notifications and paste box
 * (prompts.ts), its port forwarding and its browser.
 */
export function createSignInRunner(deps: SignInDependencies): SignInRunner {
  return (request) =>
    runInteractiveSignIn(request, {
      client: deps.client,
      settings: deps.settings,
      environment: deps.environment,
      pages: () => deps.pages(),
      logger: deps.logger,
      browserCheckSeconds: deps.browserCheckSeconds !== undefined ? deps.browserCheckSeconds : vscode.workspace.getConfiguration(settingsSection).get('browserCheckSeconds'),
      surfaces: deps.prompts,
      t: vscode.l10n.t,
      asExternalUri: async (uri) => (await vscode.env.asExternalUri(vscode.Uri.parse(uri, true))).toString(true),
      openBrowser: (url) => openIdentityProviderPage(url, 'authorization_endpoint'),
    });
}
