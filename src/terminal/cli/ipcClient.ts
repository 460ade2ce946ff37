import { connect } from 'node:net';
import { protocolVersion, type Reply, type RequestEnvelope, type TerminalRequest } from '../protocol.js';

/** The window behind the endpoint is not there (closed, reloaded) or did not answer. */
export class WindowGoneError extends Error {
  override readonly name = 'WindowGoneError';
}

export interface Conversation {
  /** The window's outcome (never a notice). */
  reply: Promise<Reply>;
  /** Hangs up: the window aborts what the request started (a sign-in). */
  hangUp(): void;
}

/**
 * Sends one request to the window and collects its answer; notices are passed on as they come. The
 * socket stays open both ways until the window answers: the window reads a closed connection as
 * "the command was stopped" and cancels.
 */
export function ask(endpoint: string, secret: string, request: TerminalRequest, onNotice: (message: string) => void): Conversation {
  const socket = connect(endpoint);
  const envelope: RequestEnvelope = { version: protocolVersion, secret, pid: process.pid, request };
  const reply = new Promise<Reply>((resolve, reject) => {
    let buffered = '';
    let settled = false;
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(envelope)}\n`));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line) continue; // the window checking that someone still reads
        let parsed: Reply;
        try {
          parsed = JSON.parse(line) as Reply;
        } catch {
          continue;
        }
        if (parsed.kind === 'notice') onNotice(parsed.message);
        else if (!settled) {
          settled = true;
          resolve(parsed);
          socket.destroy();
        }
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      const gone = error.code === 'ENOENT' || error.code === 'ECONNREFUSED';
      reject(new WindowGoneError(gone ? 'The VS Code window that opened this terminal is gone (closed or reloaded). Open a new terminal in VS Code.' : `Could not reach the VS Code window: ${error.message}`));
    });
    socket.once('close', () => {
      if (settled) return;
      settled = true;
      reject(new WindowGoneError('The VS Code window closed the connection without an answer. Open a new terminal in VS Code and try again.'));
    });
  });
  return { reply, hangUp: () => socket.destroy() };
}
