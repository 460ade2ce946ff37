import * as vscode from 'vscode';
import { showLogCommand } from './notifications.js';
import type { OAuthAnywhereProvider } from './provider.js';

/** The palette commands: Sign In, Sign Out, Show Log. */
export function registerCommands(provider: OAuthAnywhereProvider, channel: vscode.LogOutputChannel, configuredScopes: () => readonly string[]): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand('oauthAnywhere.signIn', async () => {
      // createSession shows its own failure notification; here only the success needs saying.
      const session = await provider.createSession(configuredScopes()).catch(() => undefined);
      if (session) void vscode.window.showInformationMessage(vscode.l10n.t('Signed in as {0}.', session.account.label));
    }),
    vscode.commands.registerCommand('oauthAnywhere.signOut', async () => {
      const sessions = await provider.listSessions();
      if (!sessions.length) {
        void vscode.window.showInformationMessage(vscode.l10n.t('You are not signed in with OAuth Anywhere.'));
        return;
      }
      const picked =
        sessions.length === 1
          ? sessions[0]
          : (
              await vscode.window.showQuickPick(
                sessions.map((session) => ({ label: session.account.label, description: session.scopes.join(' '), session })),
                { placeHolder: vscode.l10n.t('Which account do you want to sign out?') },
              )
            )?.session;
      if (!picked) return;
      await provider.removeSession(picked.id);
      void vscode.window.showInformationMessage(vscode.l10n.t('Signed out {0}.', picked.account.label));
    }),
    vscode.commands.registerCommand(showLogCommand, () => channel.show()),
  );
}
