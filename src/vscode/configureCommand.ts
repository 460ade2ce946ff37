import * as vscode from 'vscode';
import { settingsSection } from '../config.js';
import { checkIdentityProvider, type SetupCheck } from '../diagnostics/setupCheck.js';
import { OAuthClient } from '../oauth/client.js';
import { parseIssuer } from '../oauth/endpointUrls.js';
import { isOAuthError } from '../oauth/errors.js';
import { notificationText, untrustedText } from '../oauth/untrustedText.js';
import { configureCommand } from './notifications.js';
import type { ExtensionServices } from './services.js';

const signInCommand = 'oauthAnywhere.signIn';

/**
 * "OAuth Anywhere: Configure": asks for the issuer and the client id, reads the identity provider's
 * discovery document before saving anything, says what it lacks, and saves only what can work.
 */
export function registerConfigureCommand(services: ExtensionServices): vscode.Disposable {
  return vscode.commands.registerCommand(configureCommand, () => configure(services));
}

interface Typed {
  issuer: string;
  clientId: string;
}

async function configure(services: ExtensionServices, retry?: Typed): Promise<void> {
  const settings = vscode.workspace.getConfiguration(settingsSection);
  const issuer = await vscode.window.showInputBox({
    title: vscode.l10n.t('Configure OAuth Anywhere (1/2): issuer'),
    prompt: vscode.l10n.t("Your identity provider's issuer URL; its discovery document is read from there."),
    placeHolder: 'https://login.example.com/realms/dev',
    value: retry?.issuer ?? settings.get<string>('issuer') ?? '',
    ignoreFocusOut: true,
    validateInput: issuerProblem,
  });
  if (issuer === undefined) return;
  const clientId = await vscode.window.showInputBox({
    title: vscode.l10n.t('Configure OAuth Anywhere (2/2): client id'),
    prompt: vscode.l10n.t('The client id of a public (native) client registered at the identity provider, with redirect URI http://127.0.0.1/callback.'),
    value: retry?.clientId ?? settings.get<string>('clientId') ?? '',
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() ? undefined : vscode.l10n.t('Enter the client id.')),
  });
  if (clientId === undefined) return;
  const typed = { issuer: issuer.trim(), clientId: clientId.trim() };

  const check = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Reading the discovery document of {0}…', typed.issuer) },
    () => checkTyped(typed, services),
  );
  if (!check.ok) {
    services.logger.warn(`Configure: ${typed.issuer} was not saved: ${check.problem}`);
    const again = vscode.l10n.t('Try Again');
    const picked = await vscode.window.showErrorMessage(vscode.l10n.t('Not saved: {0}', notificationText(check.problem, 600)), again);
    if (picked === again) await configure(services, typed);
    return;
  }
  if (check.gaps.length) {
    const save = vscode.l10n.t('Save');
    const detail = `${check.gaps.map((gap) => `• ${gap}`).join('\n')}\n\n${vscode.l10n.t('Signing in can still work. Save these settings?')}`;
    const picked = await vscode.window.showWarningMessage(vscode.l10n.t('{0} answers, but lacks something', untrustedText(check.issuer)), { modal: true, detail }, save);
    if (picked !== save) return;
  }
  await save(settings, typed);
  services.logger.info(`Configure: saved issuer ${typed.issuer} and client id ${typed.clientId} (discovery answered in ${check.elapsedMs} ms; ${check.gaps.length} gap(s)).`);
  const signIn = vscode.l10n.t('Sign In');
  const picked = await vscode.window.showInformationMessage(vscode.l10n.t('OAuth Anywhere is set up for {0}.', untrustedText(check.issuer)), signIn);
  if (picked === signIn) await vscode.commands.executeCommand(signInCommand);
}

function checkTyped(typed: Typed, services: ExtensionServices): Promise<SetupCheck> {
  return checkIdentityProvider(() => new OAuthClient({ issuer: typed.issuer, clientId: typed.clientId, scopes: [] }, { logger: services.logger, limits: { timeoutMs: 10_000, maxBodyBytes: 1024 * 1024 } }));
}

/** User settings: these decide where a person signs in, so never a workspace's. */
async function save(settings: vscode.WorkspaceConfiguration, typed: Typed): Promise<void> {
  await settings.update('issuer', typed.issuer, vscode.ConfigurationTarget.Global);
  await settings.update('clientId', typed.clientId, vscode.ConfigurationTarget.Global);
  // A preset derives its own issuer; the one typed here is for plain discovery ("custom").
  const preset = settings.inspect<string>('preset')?.globalValue;
  if (preset && preset !== 'custom') await settings.update('preset', undefined, vscode.ConfigurationTarget.Global);
}

function issuerProblem(value: string): string | undefined {
  if (!value.trim()) return vscode.l10n.t('Enter the issuer URL.');
  try {
    parseIssuer(value.trim());
    return undefined;
  } catch (error) {
    return isOAuthError(error) ? error.message : String(error);
  }
}
