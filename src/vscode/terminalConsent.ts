import * as vscode from 'vscode';
import { toolLabels } from '../terminal/broker.js';
import type { AlwaysAllowedStore, ConsentAnswer, ConsentQuestion } from '../terminal/consent.js';

const alwaysAllowedKey = 'oauthAnywhere.terminal.alwaysAllowed';

/**
 * The consent modal: which tool (verb and the command line that started it, where the system tells),
 * for which identity provider, account and scopes. Everything in it is plain text: the caller's
 * command line is whatever that process says, so it is never rendered as markdown.
 */
export async function askTerminalConsent(question: ConsentQuestion): Promise<ConsentAnswer> {
  const tool = toolLabels[question.kind];
  const allowOnce = vscode.l10n.t('Allow Once');
  const always = vscode.l10n.t('Always Allow for This Tool');
  const deny = vscode.l10n.t('Deny');
  const detail = [
    vscode.l10n.t('Command: oauth-anywhere {0}', question.verb),
    vscode.l10n.t('Started by: {0}', question.caller ?? vscode.l10n.t('not known on this system')),
    ...(question.host ? [vscode.l10n.t('For the git server: {0}', question.host)] : []),
    vscode.l10n.t('Identity provider: {0} ({1})', question.provider.label, question.provider.id),
    vscode.l10n.t('Account: {0}', question.account ?? vscode.l10n.t('not signed in yet (signing in comes next)')),
    vscode.l10n.t('Scopes: {0}', question.scopes.join(' ') || vscode.l10n.t('(none)')),
    '',
    vscode.l10n.t('The tool gets an access token that acts as you at this identity provider until it expires.'),
    vscode.l10n.t('"Allow Once" and "Deny" hold for this window; "Always Allow for This Tool" for every window. "OAuth Anywhere: Reset Terminal Access" forgets them.'),
  ].join('\n');
  // Deny comes first, so it is the default button: a person still typing in the terminal when the
  // modal appears and pressing Enter refuses rather than hands out a token.
  const picked = await vscode.window.showWarningMessage(
    vscode.l10n.t('{0} in a terminal asks for your {1} token.', tool, question.provider.label),
    { modal: true, detail },
    deny,
    allowOnce,
    always,
  );
  if (picked === allowOnce) return 'once';
  if (picked === always) return 'always';
  if (picked === deny) return 'deny';
  return 'dismissed';
}

/** "Always allow" answers in globalState: every window of this user sees them. */
export function alwaysAllowedStore(state: vscode.Memento): AlwaysAllowedStore {
  return {
    get: () => {
      const value = state.get<unknown>(alwaysAllowedKey);
      return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
    },
    set: (keys) => state.update(alwaysAllowedKey, [...keys]),
  };
}
