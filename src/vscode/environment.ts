import * as vscode from 'vscode';
import type { Environment } from '../oauth/chooseFlow.js';

/** Where this extension host runs, as the plain value the flow choice takes. */
export function readEnvironment(context: vscode.ExtensionContext): Environment {
  return {
    remoteName: vscode.env.remoteName,
    uiKind: vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop',
    extensionKind: context.extension.extensionKind === vscode.ExtensionKind.UI ? 'ui' : 'workspace',
  };
}
