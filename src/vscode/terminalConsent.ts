import * as vscode from 'vscode';
import type { ToolKind } from '../terminal/protocol.js';
import type { AlwaysAllowedStore, ConsentAnswer, ConsentQuestion } from '../terminal/consent.js';
import { stripInvisible } from '../oauth/untrustedText.js';

const alwaysAllowedKey = 'oauthAnywhere.terminal.alwaysAllowed';

/** The tool as VS Code names it to the person (the terminal's own messages name it in English). */
export function toolLabel(kind: ToolKind): string {
  const labels: Record<ToolKind, string> = {
    token: vscode.l10n.t('oauth-anywhere token'),
    git: vscode.l10n.t('git (credential helper)'),
    kubectl: vscode.l10n.t('kubectl (exec credential plugin)'),
  };
  return labels[kind];
}

/**
 * The consent modal: which tool (verb and the command lines that started it, where the system
 * tells), for which identity provider, account and the scopes the token carries. Everything in it
 * is plain text: the callers' command lines are whatever those processes say, so they are never
 * rendered as markdown.
 */
export async function askTerminalConsent(asked: ConsentQuestion): Promise<ConsentAnswer> {
  const question = withoutInvisibleText(asked);
  const tool = toolLabel(question.kind);
  const allowOnce = vscode.l10n.t('Allow Once');
  const always = vscode.l10n.t('Always Allow for This Tool');
  const deny = vscode.l10n.t('Deny');
  const callers = question.callers?.length
    ? [vscode.l10n.t('Started by (what these processes say of themselves, outermost first):'), ...question.callers.map((line) => `    ${line}`)]
    : [vscode.l10n.t('Started by: not known on this system')];
  const target =
    question.kind === 'git' && question.host
      ? [vscode.l10n.t('For the git server: {0}', question.host)]
      : question.kind === 'kubectl'
        ? [question.cluster ? vscode.l10n.t('For the Kubernetes cluster: {0}', question.cluster) : vscode.l10n.t('For the Kubernetes cluster: not named by kubectl (set "provideClusterInfo: true" in the kubeconfig to tie answers to one cluster)')]
        : [];
  const scopes = question.scopes.join(' ') || vscode.l10n.t('(none)');
  const detail = [
    vscode.l10n.t('Command: oauth-anywhere {0}', question.verb),
    ...callers,
    ...target,
    vscode.l10n.t('Identity provider: {0} ({1}) at {2}', question.provider.label, question.provider.id, question.provider.issuer),
    vscode.l10n.t('Account: {0}', question.account ?? vscode.l10n.t('not signed in yet (signing in comes next)')),
    question.account ? vscode.l10n.t('Scopes of the token: {0}', scopes) : vscode.l10n.t('Scopes the sign-in asks for: {0}', scopes),
    '',
    vscode.l10n.t('The tool gets an access token that acts as you at this identity provider until it expires.'),
    vscode.l10n.t('"Allow Once" gives it to this request only. "Deny" holds for this window, "Always Allow for This Tool" for every window; "OAuth Anywhere: Reset Terminal Access" forgets them.'),
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

/**
 * The question's texts that come from outside (the account's label from the identity provider, the
 * host and cluster the tool named) without invisible characters: a bidirectional override could
 * otherwise reorder the modal's lines.
 */
function withoutInvisibleText(question: ConsentQuestion): ConsentQuestion {
  return {
    ...question,
    ...(question.account !== undefined ? { account: stripInvisible(question.account) } : {}),
    ...(question.host !== undefined ? { host: stripInvisible(question.host) } : {}),
    ...(question.cluster !== undefined ? { cluster: stripInvisible(question.cluster) } : {}),
    scopes: question.scopes.map(stripInvisible),
  };
}
