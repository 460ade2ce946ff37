import * as vscode from 'vscode';
import { Redactor, redactingLogger } from '../oauth/redact.js';
import type { Logger } from '../oauth/types.js';

/**
 * The "OAuth Anywhere" log: a LogOutputChannel (its level is set with "Developer: Set Log Level…"),
 * with every line redacted, whatever the level.
 */
export function createLog(): { channel: vscode.LogOutputChannel; logger: Logger; redactor: Redactor } {
  const channel = vscode.window.createOutputChannel('OAuth Anywhere', { log: true });
  const redactor = new Redactor();
  const sink: Logger = {
    trace: (message) => channel.trace(message),
    debug: (message) => channel.debug(message),
    info: (message) => channel.info(message),
    warn: (message) => channel.warn(message),
    error: (message) => channel.error(message),
  };
  return { channel, logger: redactingLogger(sink, redactor), redactor };
}
