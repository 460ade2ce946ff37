import * as vscode from 'vscode';
import type { SettingProblem } from '../config.js';
import { isOAuthError } from '../oauth/errors.js';

export const showLogCommand = 'oauthAnywhere.showLog';

/**
 * Tells the user why a sign-in failed and offers the next step. Not awaited by callers: the
 * notification must not hold up the error reaching the extension that asked for a session.
 */
export function notifySignInFailure(error: unknown): void {
  if (isOAuthError(error, 'cancelled')) return;
  const reason = error instanceof Error ? error.message : String(error);
  const showLog = vscode.l10n.t('Show Log');
  const openSettings = vscode.l10n.t('Open Settings');
  const actions = isOAuthError(error, 'misconfigured') ? [openSettings, showLog] : [showLog];
  void vscode.window.showErrorMessage(vscode.l10n.t('OAuth Anywhere sign-in failed: {0}', reason), ...actions).then((picked) => {
    if (picked === showLog) void vscode.commands.executeCommand(showLogCommand);
    if (picked === openSettings) void vscode.commands.executeCommand('workbench.action.openSettings', 'oauthAnywhere');
  });
}

/** Names each bad setting and opens the first one on request. */
export function notifySettingsProblems(problems: readonly SettingProblem[]): void {
  const [first] = problems;
  if (!first) return;
  const openSettings = vscode.l10n.t('Open Settings');
  const more = problems.length > 1 ? vscode.l10n.t(' (and {0} more problem(s) in the log)', problems.length - 1) : '';
  void vscode.window.showErrorMessage(vscode.l10n.t('OAuth Anywhere is not configured: {0}{1}', first.message, more), openSettings).then((picked) => {
    if (picked === openSettings) void vscode.commands.executeCommand('workbench.action.openSettings', first.setting);
  });
}
