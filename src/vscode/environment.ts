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

/** This build's version, from its package.json (which VS Code hands over untyped). */
export function extensionVersion(context: vscode.ExtensionContext): string {
  const manifest: unknown = context.extension.packageJSON;
  const version = typeof manifest === 'object' && manifest !== null ? (manifest as { version?: unknown }).version : undefined;
  return typeof version === 'string' ? version : 'unknown';
}
