import * as vscode from 'vscode';
import { mainProviderId, settingsSection } from '../config.js';
import type { ConsentKeeper } from '../terminal/consent.js';
import { parseGitHost } from '../terminal/gitHosts.js';
import type { ProviderRegistry } from './providerRegistry.js';
import { inBackground } from './inBackground.js';
import { toolLabel } from './terminalConsent.js';

export const resetTerminalAccessCommand = 'oauthAnywhere.terminal.resetAccess';
export const addGitHostCommand = 'oauthAnywhere.terminal.addGitHost';

/** "Reset Terminal Access" (forget consent answers) and "Add Git Host for Terminals". */
export function registerTerminalCommands(registry: ProviderRegistry, consent: ConsentKeeper): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(resetTerminalAccessCommand, () => resetAccess(registry, consent)),
    vscode.commands.registerCommand(addGitHostCommand, () => addGitHost(registry)),
  );
}

async function resetAccess(registry: ProviderRegistry, consent: ConsentKeeper): Promise<void> {
  const decisions = consent.decisions();
  if (!decisions.length) {
    inBackground(vscode.window.showInformationMessage(vscode.l10n.t('No terminal tool has a remembered answer; each one asks on its first use.')));
    return;
  }
  const describe = { always: vscode.l10n.t('always allowed'), denied: vscode.l10n.t('denied in this window') };
  const picked = await vscode.window.showQuickPick(
    decisions.map((decision) => ({
      label: decision.cluster ? vscode.l10n.t('{0} for {1}', toolLabel(decision.kind), decision.cluster) : toolLabel(decision.kind),
      description: registry.get(decision.providerId)?.label ?? decision.providerId,
      detail: vscode.l10n.t('{0}; {1}, client {2}', describe[decision.decision], decision.issuer, decision.clientId),
      picked: true,
      decision,
    })),
    { canPickMany: true, placeHolder: vscode.l10n.t('Forget these answers: the tool asks again on its next use') },
  );
  if (!picked?.length) return;
  for (const { decision } of picked) await consent.forget(decision.key);
  inBackground(vscode.window.showInformationMessage(vscode.l10n.t('Forgot {0} answer(s); those tools ask again on their next use.', picked.length)));
}

async function addGitHost(registry: ProviderRegistry): Promise<void> {
  const entries = registry.entries();
  const chosen =
    entries.length <= 1
      ? entries[0]
      : (await vscode.window.showQuickPick(entries.map((entry) => ({ label: entry.definition.label, description: entry.definition.id, entry })), { placeHolder: vscode.l10n.t('Which identity provider signs you in to this git server?') }))?.entry;
  if (!chosen) return;
  const typed = await vscode.window.showInputBox({
    title: vscode.l10n.t('Git server for {0}', chosen.definition.label),
    prompt: vscode.l10n.t('git in VS Code terminals will use your {0} token for this host (https).', chosen.definition.label),
    placeHolder: 'git.example.com',
    validateInput: (text) => {
      const parsed = parseGitHost(text);
      return 'problem' in parsed ? parsed.problem : undefined;
    },
  });
  if (typed === undefined) return;
  const host = parseGitHost(typed);
  if ('problem' in host) return;
  const configuration = vscode.workspace.getConfiguration(settingsSection);
  const entry = host.protocol === 'https' && !host.host.includes(':') ? host.host : host.origin;
  if (chosen.definition.id === mainProviderId) {
    const list = listOf(configuration.get<unknown>('gitHosts')).filter((item) => item !== entry);
    await configuration.update('gitHosts', [...list, entry], vscode.ConfigurationTarget.Global);
  } else {
    const entryId = chosen.definition.id.slice(mainProviderId.length + 1);
    const updated = listOf(configuration.get<unknown>('providers')).map((item) => {
      if (typeof item !== 'object' || item === null || (item as { id?: unknown }).id !== entryId) return item;
      const hosts = listOf((item as { gitHosts?: unknown }).gitHosts);
      return { ...item, gitHosts: [...hosts.filter((known) => known !== entry), entry] };
    });
    await configuration.update('providers', updated, vscode.ConfigurationTarget.Global);
  }
  inBackground(vscode.window.showInformationMessage(vscode.l10n.t('git in new VS Code terminals gets credentials for {0} from {1}. Terminals already open need a relaunch.', host.origin, chosen.definition.label)));
}

/** A setting that should be a list, as one (anything else counts as empty). */
function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}
