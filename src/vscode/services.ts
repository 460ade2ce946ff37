import type * as vscode from 'vscode';
import type { MachineCoordination } from '../auth/coordination.js';
import type { SecretStoragePort } from '../auth/sessionStore.js';
import type { CallbackPages } from '../oauth/callbackPages.js';
import type { Environment } from '../oauth/chooseFlow.js';
import type { Redactor } from '../oauth/redact.js';
import type { Logger } from '../oauth/types.js';
import type { PromptActions } from './prompts.js';

/** The last sign-in failures, for the troubleshooting report (messages only: they hold no secrets). */
export class RecentErrors {
  private readonly messages: string[] = [];
  constructor(private readonly limit = 10) {}

  add(providerLabel: string, message: string): void {
    this.messages.push(`${new Date().toISOString()} ${providerLabel}: ${message}`);
    if (this.messages.length > this.limit) this.messages.shift();
  }

  list(): readonly string[] {
    return this.messages;
  }
}

/** What every part of the shell shares; built once in activate(). */
export interface ExtensionServices {
  context: vscode.ExtensionContext;
  channel: vscode.LogOutputChannel;
  logger: Logger;
  redactor: Redactor;
  prompts: PromptActions;
  secrets: SecretStoragePort;
  /** This window's place among the windows of its machine (refresh locks, token hand-over). */
  coordination: MachineCoordination;
  environment: Environment;
  recentErrors: RecentErrors;
  /** The pages shown after the loopback redirect, read from media/ on first use. */
  pages(): CallbackPages;
}
