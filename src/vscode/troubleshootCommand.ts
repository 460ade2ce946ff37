import * as vscode from 'vscode';
import { readProviderDefinitions, readSettings, settingsSection, type ProviderDefinition } from '../config.js';
import { renderReport, troubleshoot, type Check } from '../diagnostics/troubleshoot.js';
import { extensionVersion } from './environment.js';
import { troubleshootCommand } from './notifications.js';
import type { ExtensionServices } from './services.js';

/**
 * "OAuth Anywhere: Troubleshoot Sign-In": runs the checks of src/diagnostics/troubleshoot.ts for one
 * provider and opens the report as an untitled Markdown document, to read and to paste into a ticket.
 * The report holds no secret: the core never reads a token into it, and the text passes through the
 * log's redactor (which knows the tokens this window holds) on top of the core's own redaction.
 */
export function registerTroubleshootCommand(services: ExtensionServices): vscode.Disposable {
  return vscode.commands.registerCommand(troubleshootCommand, () => troubleshootSignIn(services));
}

async function troubleshootSignIn(services: ExtensionServices): Promise<void> {
  const definition = await pickProvider();
  if (!definition) return;
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Checking the sign-in to {0}…', definition.label) },
    async () => {
      const checks = await troubleshoot({
        environment: services.environment,
        settings: readSettings(definition.read),
        secrets: services.secrets,
        recentErrors: services.recentErrors.list(),
        windows: await services.coordination.describe(),
      });
      return renderReport([vscodeCheck(services, definition), ...checks], new Date());
    },
  );
  const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: services.redactor.redact(report) });
  await vscode.window.showTextDocument(document, { preview: false });
  services.logger.info(`Troubleshooting report for ${definition.label} opened (${report.length} characters).`);
}

/** Which VS Code, which build of this extension, and which provider the report is about. */
function vscodeCheck(services: ExtensionServices, definition: ProviderDefinition): Check {
  return {
    title: 'VS Code and the provider',
    status: 'info',
    lines: [
      `- ${vscode.env.appName} ${vscode.version} (${vscode.env.appHost})`,
      `- OAuth Anywhere ${extensionVersion(services.context)}`,
      `- provider: ${definition.label} (authentication provider id "${definition.id}")`,
    ],
  };
}

async function pickProvider(): Promise<ProviderDefinition | undefined> {
  const { definitions } = readProviderDefinitions((key) => vscode.workspace.getConfiguration(settingsSection).get(key));
  if (definitions.length <= 1) return definitions[0];
  const picked = await vscode.window.showQuickPick(
    definitions.map((definition) => ({ label: definition.label, description: definition.id, definition })),
    { placeHolder: vscode.l10n.t('Troubleshoot the sign-in to which identity provider?') },
  );
  return picked?.definition;
}
