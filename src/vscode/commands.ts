import * as vscode from 'vscode';
import { untrustedText } from '../oauth/untrustedText.js';
import { showLogCommand } from './notifications.js';
import { withoutIcons } from './promptTexts.js';
import type { ProviderRegistry } from './providerRegistry.js';
import type { OAuthAnywhereProvider } from './provider.js';
import { inBackground } from './inBackground.js';

/** What another extension calls when an API answered 401 to a session's token. */
export const reportRejectedTokenCommand = 'oauthAnywhere.reportRejectedToken';

/** The palette commands (Sign In, Sign Out, Show Log) and the command for consumers. */
export function registerCommands(registry: ProviderRegistry, channel: vscode.LogOutputChannel): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand('oauthAnywhere.signIn', async () => {
      const provider = await pickProvider(registry);
      if (!provider) return;
      // createSession shows its own failure notification; here only the success needs saying.
      const session = await provider.createSession(registry.configuredScopes(provider.id)).catch(() => undefined);
      if (session) inBackground(vscode.window.showInformationMessage(vscode.l10n.t('Signed in to {0} as {1}.', provider.label, untrustedText(session.account.label))));
    }),
    vscode.commands.registerCommand('oauthAnywhere.signOut', async () => {
      const choices = (await Promise.all(registry.all().map(async (provider) => (await provider.listSessions()).map((session) => ({ provider, session }))))).flat();
      if (!choices.length) {
        inBackground(vscode.window.showInformationMessage(vscode.l10n.t('You are not signed in with OAuth Anywhere.')));
        return;
      }
      const picked =
        choices.length === 1
          ? choices[0]
          : (
              await vscode.window.showQuickPick(
                choices.map((choice) => ({ label: withoutIcons(choice.session.account.label), description: choice.provider.label, detail: withoutIcons(choice.session.scopes.join(' ')), choice })),
                { placeHolder: vscode.l10n.t('Which account do you want to sign out?') },
              )
            )?.choice;
      if (!picked) return;
      await picked.provider.removeSession(picked.session.id);
      inBackground(vscode.window.showInformationMessage(vscode.l10n.t('Signed out {0} from {1}.', untrustedText(picked.session.account.label), picked.provider.label)));
    }),
    vscode.commands.registerCommand(showLogCommand, () => channel.show()),
    vscode.commands.registerCommand(reportRejectedTokenCommand, async (providerId: unknown, sessionId: unknown) => {
      const provider = typeof providerId === 'string' ? registry.get(providerId) : undefined;
      if (!provider || typeof sessionId !== 'string') {
        throw new Error(`${reportRejectedTokenCommand} takes (providerId, sessionId), e.g. ('oauth-anywhere', session.id).`);
      }
      return provider.reportRejected(sessionId);
    }),
  );
}

async function pickProvider(registry: ProviderRegistry): Promise<OAuthAnywhereProvider | undefined> {
  const providers = registry.all();
  if (providers.length <= 1) return providers[0];
  const picked = await vscode.window.showQuickPick(
    providers.map((provider) => ({ label: provider.label, description: provider.id, provider })),
    { placeHolder: vscode.l10n.t('Sign in to which identity provider?') },
  );
  return picked?.provider;
}
