import { randomBytes } from 'node:crypto';
import { chmod, readdir, stat, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../oauth/types.js';
import type { SessionEntry } from './sessionEntry.js';
import type { EntryExchange } from './sessionStore.js';

/**
 * One window's socket: `peer-<32 hex>.sock` in the runtime directory. Not on Windows, where named
 * pipes share one namespace among all users (coordination.ts does not start an exchange there).
 */
const socketName = /^peer-[0-9a-f]{32}\.sock$/;
/** A peer message never needs more: a few sessions' tokens. */
const maxMessageBytes = 1024 * 1024;

type Member = { entries(): SessionEntry[]; receive(entries: unknown[]): void };
type Request = { v: 1; op: 'publish'; store: string; entries: unknown[] } | { v: 1; op: 'pull'; store: string };

/**
 * The windows of one machine hand each other session entries over Unix sockets, one per window, in
 * the per-user runtime directory (0700: other users cannot connect; processes of this user are
 * inside the trust boundary anyway, they could read VS Code's storage). A window that publishes a
 * refreshed session waits until every reachable window has taken it, so the next holder of the
 * refresh lock already has the rotated refresh token, whatever SecretStorage does. Tokens travel
 * over the sockets only; nothing secret is written to a file. A socket nobody listens on any more
 * (a window that crashed) is removed by the first window that finds it.
 */
export class PeerExchange implements EntryExchange {
  private readonly members = new Map<string, Set<Member>>();
  private server: Server | undefined;
  private path: string | undefined;

  constructor(
    private readonly directory: string,
    private readonly logger: Logger,
    private readonly timeoutMs = 1_000,
  ) {}

  /** Listens on this window's socket. */
  async start(): Promise<void> {
    const path = this.endpointPath(randomBytes(16).toString('hex'));
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(path, 0o600);
    server.unref();
    this.server = server;
    this.path = path;
  }

  /** Listens again when this window's socket file was deleted (its runtime directory was cleared). */
  async ensureListening(): Promise<void> {
    if (!this.path) return;
    const present = await stat(this.path).then(() => true, () => false);
    if (present) return;
    this.server?.close();
    await this.start();
  }

  join(storeKey: string, member: Member): { dispose(): void } {
    let set = this.members.get(storeKey);
    if (!set) this.members.set(storeKey, (set = new Set()));
    set.add(member);
    return { dispose: () => void set.delete(member) };
  }

  async publish(storeKey: string, entries: readonly SessionEntry[]): Promise<void> {
    await Promise.all((await this.peers()).map((peer) => this.ask(peer, { v: 1, op: 'publish', store: storeKey, entries: [...entries] })));
  }

  async pull(storeKey: string): Promise<unknown[]> {
    const answers = await Promise.all((await this.peers()).map((peer) => this.ask(peer, { v: 1, op: 'pull', store: storeKey })));
    return answers.flatMap((answer) => (answer && Array.isArray(answer.entries) ? answer.entries : []));
  }

  /** How many other windows of this machine have a socket here (not checked to be alive). */
  async peerCount(): Promise<number> {
    return (await this.peers()).length;
  }

  dispose(): void {
    this.server?.close();
    this.server = undefined;
    if (this.path) void unlink(this.path).catch(() => undefined);
    this.path = undefined;
    this.members.clear();
  }

  private async peers(): Promise<string[]> {
    if (!this.path) return [];
    const names = await readdir(this.directory).catch(() => [] as string[]);
    return names.filter((name) => socketName.test(name)).map((name) => join(this.directory, name)).filter((path) => path !== this.path);
  }

  private endpointPath(id: string): string {
    return join(this.directory, `peer-${id}.sock`);
  }

  /** One request, one answer line; undefined when the peer could not be reached in time. */
  private ask(peer: string, request: Request): Promise<{ entries?: unknown[] } | undefined> {
    return new Promise((resolve) => {
      const socket = createConnection(peer);
      let answer = '';
      const finish = (value: { entries?: unknown[] } | undefined) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.logger.debug(`A window did not answer within ${this.timeoutMs} ms; going on without it.`);
        finish(undefined);
      }, this.timeoutMs);
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
      socket.on('data', (chunk: string) => {
        answer += chunk;
        if (answer.length > maxMessageBytes) return finish(undefined);
        const end = answer.indexOf('\n');
        if (end >= 0) finish(parseLine(answer.slice(0, end)) as { entries?: unknown[] } | undefined);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        // Nobody listens: the window is gone and left its socket behind.
        if (error.code === 'ECONNREFUSED') void unlink(peer).catch(() => undefined);
        finish(undefined);
      });
      socket.on('close', () => finish(undefined));
    });
  }

  private serve(socket: Socket): void {
    let request = '';
    let answered = false;
    socket.setEncoding('utf8');
    socket.setTimeout(this.timeoutMs, () => socket.destroy());
    // A slow writer gets no more than this in all, whatever it sends.
    const deadline = setTimeout(() => socket.destroy(), 4 * this.timeoutMs);
    deadline.unref?.();
    socket.on('close', () => clearTimeout(deadline));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      if (answered) return;
      request += chunk;
      if (request.length > maxMessageBytes) return void socket.destroy();
      const end = request.indexOf('\n');
      if (end < 0) return;
      answered = true;
      const answer = this.handle(parseLine(request.slice(0, end)));
      socket.end(`${JSON.stringify(answer)}\n`);
    });
  }

  private handle(request: unknown): { ok: boolean; entries?: SessionEntry[] } {
    if (!isRequest(request)) return { ok: false };
    const members = [...(this.members.get(request.store) ?? [])];
    if (request.op === 'pull') return { ok: true, entries: members.flatMap((member) => member.entries()) };
    // The store checks every entry as it would one read from storage.
    for (const member of members) member.receive(request.entries);
    return { ok: true };
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function isRequest(value: unknown): value is Request {
  if (typeof value !== 'object' || value === null) return false;
  const request = value as Record<string, unknown>;
  if (request.v !== 1 || typeof request.store !== 'string') return false;
  return request.op === 'pull' || (request.op === 'publish' && Array.isArray(request.entries));
}
