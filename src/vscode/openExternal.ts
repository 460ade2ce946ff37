import * as vscode from 'vscode';
import { openableUrl } from '../oauth/endpointUrls.js';

/**
 * Opens an address that came from the identity provider (or was built from its metadata) in the
 * browser, only when it is https or http on a loopback host. The core checked it already; this is the
 * last step before the browser, so nothing reaches it unchecked. Resolves false when VS Code could not
 * open it; throws the core's `unsafe_url` error for anything else.
 */
export async function openIdentityProviderPage(url: string, name: string): Promise<boolean> {
  const checked = openableUrl(url, name);
  return vscode.env.openExternal(vscode.Uri.parse(checked.href, true));
}
