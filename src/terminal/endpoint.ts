import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readdir, unlink } from 'node:fs/promises';
import { unlinkSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../oauth/types.js';
import type { RequestContext } from './broker.js';
import { maxRequestBytes, protocolVersion, type Reply, type RequestEnvelope, type TerminalRequest } from './protocol.js';
import { errorText } from '../oauth/errors.js';

/** Terminal sockets in the shared runtime directory start with this; stale-socket cleanup touches nothing else. */
export const terminalSocketPrefix = 'terminal-';
const socketSuffix = '.sock';
/** A command that connected but sends no request within this long is dropped. */
const requestTimeoutMs = 10_000;
/** How often a connection whose client ended its input is checked for a reader while its request runs. */
const readerProbeMs = 1_000;

export type RequestHandler = (request: TerminalRequest, context: RequestContext) => Promise<Reply>;

/** Where a window's endpoint will listen, and its secret: decided before it listens, so the terminal environment can be set at once. */
export interface EndpointPlan {
  path: string;
  secret: string;
}

/**
 * A random socket name in the per-user runtime directory (mode 0700, so other users cannot reach
 * it), or a random named pipe on Windows (whose default ACL lets only this user and administrators
 * write to it). The name is unguessable, the secret must also be presented.
 */
export function planEndpoint(directory: string, platform: NodeJS.Platform = process.platform): EndpointPlan {
  const name = randomBytes(12).toString('base64url');
  const path = platform === 'win32' ? `\\\\.\\pipe\\oauth-anywhere-${terminalSocketPrefix}${name}` : join(directory, `${terminalSocketPrefix}${name}${socketSuffix}`);
  return { path, secret: randomBytes(32).toString('base64url') };
}

export interface TerminalEndpoint extends EndpointPlan {
  close(): Promise<void>;
}

/**
 * Listens on the planned path (socket mode 0600) and serves one request per connection: a JSON
 * envelope line, checked for the window's secret, then the handler's notices and reply as JSON
 * lines. A client that ends its input after the request (`nc -N`, socat) still gets the answer; one
 * that is gone aborts its request (a sign-in it started stops).
 */
export async function openTerminalEndpoint(plan: EndpointPlan, handle: RequestHandler, logger: Logger): Promise<TerminalEndpoint> {
  const connections = new Set<Socket>();
  // Half-open: the end of the client's input is not the end of the conversation.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    serveConnection(socket, plan.secret, handle, logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(plan.path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error(`The terminal endpoint failed: ${error.message}`));
  server.unref();
  const isSocketFile = !plan.path.startsWith('\\\\');
  if (isSocketFile) await chmod(plan.path, 0o600);
  // A window that ends without deactivating must not leave its socket behind.
  const removeOnExit = () => removeSync(plan.path);
  if (isSocketFile) process.once('exit', removeOnExit);
  let closing: Promise<void> | undefined;
  return {
    ...plan,
    close: () =>
      (closing ??= (async () => {
        process.off('exit', removeOnExit);
        for (const socket of connections) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        if (isSocketFile) removeSync(plan.path);
      })()),
  };
}

function serveConnection(socket: Socket, secret: string, handle: RequestHandler, logger: Logger): void {
  socket.setEncoding('utf8');
  socket.on('error', () => undefined); // a command that went away mid-answer: nothing to tell it
  let buffered = '';
  const timer = setTimeout(() => socket.destroy(), requestTimeoutMs);
  const take = (line: string) => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    serveRequest(socket, line, secret, handle, logger).catch((error: unknown) => {
      logger.error(`Terminal: a request could not be answered: ${errorText(error)}`);
      socket.destroy();
    });
  };
  const onData = (chunk: string) => {
    buffered += chunk;
    const newline = buffered.indexOf('\n');
    if (newline >= 0) return take(buffered.slice(0, newline));
    if (buffered.length <= maxRequestBytes) return;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    finish(socket, { kind: 'error', code: 'usage', message: 'The request is too large.' });
  };
  // The end of input also ends the request line (`printf '{...}' | nc -N`).
  const onEnd = () => (buffered ? take(buffered) : socket.destroy());
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', () => clearTimeout(timer));
}

async function serveRequest(socket: Socket, line: string, secret: string, handle: RequestHandler, logger: Logger): Promise<void> {
  const envelope = parseEnvelope(line);
  if (typeof envelope === 'string') return finish(socket, { kind: 'error', code: 'usage', message: envelope });
  if (!sameSecret(envelope.secret, secret)) {
    logger.warn(`Terminal: refused a request without this window's secret (process ${envelope.pid}).`);
    return finish(socket, { kind: 'error', code: 'refused', message: "The request does not carry this VS Code window's terminal secret. Run the command in a terminal of that window." });
  }
  const controller = new AbortController();
  const abort = () => controller.abort();
  socket.once('close', abort);
  const stopProbing = probeForReaderAfterEnd(socket);
  const context: RequestContext = {
    pid: envelope.pid,
    signal: controller.signal,
    notify: (message) => void (socket.writable && socket.write(`${JSON.stringify({ kind: 'notice', message } satisfies Reply)}\n`)),
  };
  let reply: Reply;
  try {
    reply = await handle(envelope.request, context);
  } catch (caught) {
    reply = { kind: 'error', code: 'failed', message: caught instanceof Error ? caught.message : String(caught) };
  }
  stopProbing();
  socket.off('close', abort);
  finish(socket, reply);
}

/**
 * The end of a client's input means either "that was my request" (a client that half-closes) or
 * "I am gone" (our command hangs up on Ctrl+C by closing its socket). Only a write tells them
 * apart: to a client that is gone it fails at once (EPIPE), which closes the socket and aborts the
 * request. So once the input has ended, an empty line (which readers of the protocol skip) is
 * written at once and then every readerProbeMs until the answer is ready.
 */
function probeForReaderAfterEnd(socket: Socket): () => void {
  let timer: NodeJS.Timeout | undefined;
  const probe = () => {
    if (socket.writable) socket.write('\n');
  };
  const start = () => {
    probe();
    timer = setInterval(probe, readerProbeMs);
  };
  if (socket.readableEnded) start();
  else socket.once('end', start);
  return () => {
    socket.off('end', start);
    clearInterval(timer);
  };
}

function finish(socket: Socket, reply: Reply): void {
  if (socket.writable) socket.end(`${JSON.stringify(reply)}\n`);
  else socket.destroy();
}

/** Compares digests, so the time taken says nothing about how much of the secret matched. */
function sameSecret(given: string, secret: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

/** The envelope, or what is wrong with it. */
export function parseEnvelope(line: string): RequestEnvelope | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'The request is not JSON.';
  }
  if (!isRecord(value)) return 'The request is not a JSON object.';
  if (value.version !== protocolVersion) return `This VS Code window speaks version ${protocolVersion} of the terminal protocol; the command spoke ${JSON.stringify(value.version)}. Open a new terminal.`;
  if (typeof value.secret !== 'string' || !Number.isSafeInteger(value.pid) || (value.pid as number) <= 0 || !isRecord(value.request)) return 'The request lacks its secret, process id or request.';
  const request = parseRequest(value.request);
  return typeof request === 'string' ? request : { version: protocolVersion, secret: value.secret, pid: value.pid as number, request };
}

function parseRequest(request: Record<string, unknown>): TerminalRequest | string {
  const signIn = request.signIn !== false;
  switch (request.verb) {
    case 'status':
      return { verb: 'status' };
    case 'token':
    case 'kubectl': {
      if (request.provider !== undefined && typeof request.provider !== 'string') return 'The provider must be a string.';
      if (request.scopes !== undefined && !(Array.isArray(request.scopes) && request.scopes.every((scope) => typeof scope === 'string' && scope && !/\s/.test(scope)))) {
        return 'The scopes must be a list of scope names without spaces.';
      }
      const common = { signIn, ...(request.provider !== undefined ? { provider: request.provider } : {}), ...(request.scopes !== undefined ? { scopes: request.scopes as string[] } : {}) };
      if (request.verb === 'token') return { verb: 'token', ...common };
      if (request.cluster !== undefined && (typeof request.cluster !== 'string' || request.cluster.length > 2048)) return 'The cluster must be a server URL.';
      return { verb: 'kubectl', ...common, ...(request.cluster !== undefined ? { cluster: request.cluster } : {}) };
    }
    case 'git-get':
    case 'git-erase': {
      const target = request.target;
      if (!isRecord(target) || typeof target.protocol !== 'string' || typeof target.host !== 'string') return 'The git request lacks protocol and host.';
      const parsedTarget = { protocol: target.protocol, host: target.host };
      if (request.verb === 'git-get') return { verb: 'git-get', target: parsedTarget, signIn };
      return typeof request.token === 'string' ? { verb: 'git-erase', target: parsedTarget, token: request.token } : 'The git erase request lacks the token.';
    }
    default:
      return `Unknown request "${String(request.verb).slice(0, 40)}".`;
  }
}

/**
 * Removes terminal sockets of windows that are gone: a socket nobody listens on refuses the
 * connection. Only `terminal-*.sock` files are looked at; everything else in the directory belongs
 * to someone else.
 */
export async function removeStaleSockets(directory: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return [];
  }
  const candidates = names.filter((name) => name.startsWith(terminalSocketPrefix) && name.endsWith(socketSuffix));
  const removed = await Promise.all(
    candidates.map(async (name) => {
      const path = join(directory, name);
      if (!(await nobodyListens(path))) return undefined;
      await unlink(path).catch(() => undefined);
      return name;
    }),
  );
  return removed.filter((name): name is string => name !== undefined);
}

function nobodyListens(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.setTimeout(1000, () => {
      // Busy, not gone: leave it.
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function removeSync(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
