import * as vscode from 'vscode';
import type { SettingProblem } from '../config.js';
import { reasonOf } from '../oauth/errors.js';
import { signInFailureMessage, type ErrorAction } from './errorMessages.js';
import { inBackground } from './inBackground.js';

export const showLogCommand = 'oauthAnywhere.showLog';
export const troubleshootCommand = 'oauthAnywhere.troubleshoot';
export const configureCommand = 'oauthAnywhere.configure';

const actionLabels: Record<ErrorAction, () => string> = {
  configure: () => vscode.l10n.t('Configure'),
  troubleshoot: () => vscode.l10n.t('Troubleshoot'),
  showLog: () => vscode.l10n.t('Show Log'),
};
const actionCommands: Record<ErrorAction, string> = { configure: configureCommand, troubleshoot: troubleshootCommand, showLog: showLogCommand };

/**
 * Tells the user why a sign-in failed and what to do, with Troubleshoot and Show Log (and Configure
 * when the settings are the cure). Not awaited by callers: the notification must not hold up the
 * error reaching the extension that asked for a session.
 */
export function notifySignInFailure(error: unknown): void {
  const detail = error instanceof Error ? error.message : String(error);
  const failure = signInFailureMessage(reasonOf(error), detail, vscode.l10n.t);
  if (!failure) return;
  showErrorWithActions(failure.message, failure.actions);
}

/** Names each bad setting, and offers to fix it: Configure, the setting itself, or the report. */
export function notifySettingsProblems(problems: readonly SettingProblem[]): void {
  const [first] = problems;
  if (!first) return;
  const openSettings = vscode.l10n.t('Open Settings');
  const more = problems.length > 1 ? vscode.l10n.t(' (and {0} more problem(s) in the log)', problems.length - 1) : '';
  const configure = actionLabels.configure();
  const troubleshoot = actionLabels.troubleshoot();
  inBackground(
    vscode.window.showErrorMessage(vscode.l10n.t('OAuth Anywhere is not configured: {0}{1}', first.message, more), configure, openSettings, troubleshoot).then((picked) => {
      if (picked === configure) return vscode.commands.executeCommand(configureCommand);
      if (picked === openSettings) return vscode.commands.executeCommand('workbench.action.openSettings', first.setting);
      if (picked === troubleshoot) return vscode.commands.executeCommand(troubleshootCommand);
      return undefined;
    }),
  );
}

/** An error notification whose buttons run this extension's commands. */
export function showErrorWithActions(message: string, actions: readonly ErrorAction[]): void {
  const labels = actions.map((action) => ({ action, label: actionLabels[action]() }));
  inBackground(
    vscode.window.showErrorMessage(message, ...labels.map((entry) => entry.label)).then((picked) => {
      const chosen = labels.find((entry) => entry.label === picked);
      return chosen ? vscode.commands.executeCommand(actionCommands[chosen.action]) : undefined;
    }),
  );
}
