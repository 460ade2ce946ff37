// The window's terminal endpoint as the operating system sees it: a 0700 directory, a 0600 socket
// with a random name, another user refused by the kernel, the window's secret required, malformed
// and oversized requests answered without harm, and sockets of dead windows cleaned up (only ours).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureRuntimeDirectory } from '../../src/auth/runtimeDirectory.js';
import { openTerminalEndpoint, planEndpoint, removeStaleSockets, terminalSocketPrefix, type TerminalEndpoint } from '../../src/terminal/endpoint.js';
import type { Reply } from '../../src/terminal/protocol.js';
import { captureLogger } from '../support/logs.js';
import { readmeSection } from '../support/readme.js';
import { commandPath, runTool, terminalEnvironment } from '../support/terminalCommand.js';

/** Sends raw bytes to the endpoint and collects every reply line until it closes. */
function exchange(path: string, payload: string, { end = false } = {}): Promise<{ replies: Reply[]; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(path);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.once('connect', () => (end ? socket.end(payload) : socket.write(payload)));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ replies: [], error: error.code }));
    socket.once('close', () => resolve({ replies: text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Reply) }));
  });
}

describe('terminal endpoint: files, secret, bad requests, stale sockets', () => {
  let root: string;
  let directory: string;
  let endpoint: TerminalEndpoint;
  let handled = 0;
  const logger = captureLogger();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'oauth-anywhere-endpoint-'));
    directory = await ensureRuntimeDirectory(join(root, 'runtime'));
    endpoint = await openTerminalEndpoint(planEndpoint(directory), async () => (handled++, { kind: 'status', providers: [] }), logger);
  });
  after(async () => {
    await endpoint.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('the directory is 0700 and ours, the socket 0600 with a random terminal-* name', () => {
    const directoryStats = lstatSync(directory);
    assert.ok(directoryStats.isDirectory());
    assert.equal(directoryStats.mode & 0o777, 0o700);
    assert.equal(directoryStats.uid, process.getuid!());
    const socketStats = lstatSync(endpoint.path);
    assert.ok(socketStats.isSocket());
    assert.equal(socketStats.mode & 0o777, 0o600);
    assert.match(basename(endpoint.path), new RegExp(`^${terminalSocketPrefix}[\\w-]{16}\\.sock$`));
    assert.notEqual(planEndpoint(directory).path, planEndpoint(directory).path, 'names are random');
    assert.ok(endpoint.secret.length >= 43, 'a 256-bit secret');
  });

  it('another user cannot even connect (the kernel refuses: directory 0700)', { skip: process.getuid?.() !== 0 && 'needs root to run a process as another user' }, async () => {
    const child = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(endpoint.path)}).on('connect',()=>{console.log('connected');process.exit(0)}).on('error',(e)=>{console.log(e.code);process.exit(0)})`], { uid: 65534, gid: 65534, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    await new Promise((resolve) => child.once('close', resolve));
    assert.equal(output.trim(), 'EACCES');
  });

  it('requests without the secret, malformed, of an unknown verb or oversized get no service', async () => {
    handled = 0;
    const envelope = (secret: unknown) => `${JSON.stringify({ version: 1, secret, pid: 1, request: { verb: 'status' } })}\n`;
    const refused = await exchange(endpoint.path, envelope('wrong'));
    assert.deepEqual(refused.replies.map((reply) => reply.kind === 'error' && reply.code), ['refused']);
    assert.deepEqual((await exchange(endpoint.path, envelope(undefined))).replies.map((reply) => reply.kind === 'error' && reply.code), ['usage']);
    assert.deepEqual((await exchange(endpoint.path, 'not json\n')).replies.map((reply) => reply.kind === 'error' && reply.code), ['usage']);
    assert.deepEqual((await exchange(endpoint.path, `${JSON.stringify({ version: 1, secret: endpoint.secret, pid: 1, request: { verb: 'rm -rf' } })}\n`)).replies.map((reply) => reply.kind === 'error' && reply.code), ['usage']);
    assert.deepEqual((await exchange(endpoint.path, 'x'.repeat(70 * 1024))).replies.map((reply) => reply.kind === 'error' && reply.code), ['usage']);
    assert.equal(handled, 0, 'the handler never ran');
    const served = await exchange(endpoint.path, envelope(endpoint.secret));
    assert.deepEqual(served.replies.map((reply) => reply.kind), ['status']);
    assert.equal(handled, 1);
    assert.ok(logger.lines.some((line) => line.includes("refused a request without this window's secret")));
    assert.ok(logger.lines.every((line) => !line.includes(endpoint.secret) && !line.includes('wrong')), 'neither secret is logged');
  });

  it("a dead window's socket is removed; live sockets and other files are left alone; a tool aimed at it is told the window is gone", async () => {
    const dead = planEndpoint(directory);
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(dead.path)}, () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    assert.ok(lstatSync(dead.path).isSocket(), 'the killed window left its socket behind');
    // Someone else's files in the shared directory: a peer socket of a dead window, a lock file.
    const peer = join(directory, 'peer-0123456789abcdef.sock');
    const peerServer = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(peer)}, () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => peerServer.stdout.once('data', () => resolve()));
    peerServer.kill('SIGKILL');
    await new Promise((resolve) => peerServer.once('close', resolve));
    writeFileSync(join(directory, 'refresh.lock'), '123');

    const gone = await runTool(commandPath(), ['token'], { env: terminalEnvironment({ OAUTH_ANYWHERE_TERMINAL_ENDPOINT: dead.path, OAUTH_ANYWHERE_TERMINAL_SECRET: dead.secret }) });
    assert.equal(gone.code, 5);
    assert.match(gone.stderr, /The VS Code window that opened this terminal is gone \(closed or reloaded\)\. Open a new terminal in VS Code\./);

    const removed = await removeStaleSockets(directory);
    assert.deepEqual(removed, [basename(dead.path)]);
    assert.deepEqual(readdirSync(directory).sort(), [basename(endpoint.path), 'peer-0123456789abcdef.sock', 'refresh.lock'].sort());
    assert.deepEqual((await exchange(endpoint.path, `${JSON.stringify({ version: 1, secret: endpoint.secret, pid: 1, request: { verb: 'status' } })}\n`)).replies.map((reply) => reply.kind), ['status'], 'the live window still answers');
  });

  it('a client that half-closes after its request (nc -N, socat) still gets the answer, its request not aborted', async () => {
    const seen: string[] = [];
    const slow = await openTerminalEndpoint(
      planEndpoint(directory),
      async (_request, context) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen.push(context.signal.aborted ? 'aborted' : 'running');
        return { kind: 'status', providers: [] };
      },
      logger,
    );
    try {
      const request = JSON.stringify({ version: 1, secret: slow.secret, pid: process.pid, request: { verb: 'status' } });
      const withNewline = await exchange(slow.path, `${request}\n`, { end: true });
      assert.deepEqual(withNewline.replies.map((reply) => reply.kind), ['status']);
      const withoutNewline = await exchange(slow.path, request, { end: true });
      assert.deepEqual(withoutNewline.replies.map((reply) => reply.kind), ['status'], 'the end of input ends the request line too');
      assert.deepEqual(seen, ['running', 'running']);
    } finally {
      await slow.close();
    }
  });

  it('a client that goes away completely (Ctrl+C) aborts its request', { timeout: 10_000 }, async () => {
    let aborted: () => void;
    const abort = new Promise<void>((resolve) => (aborted = resolve));
    const waiting = await openTerminalEndpoint(
      planEndpoint(directory),
      (_request, context) =>
        new Promise((resolve) => {
          context.signal.addEventListener('abort', () => {
            aborted();
            resolve({ kind: 'error', code: 'failed', message: 'stopped' });
          });
        }),
      logger,
    );
    try {
      const socket = connect(waiting.path);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`${JSON.stringify({ version: 1, secret: waiting.secret, pid: process.pid, request: { verb: 'status' } })}\n`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      socket.destroy();
      // The window sees the end of input first, as from a client that half-closes: the request must
      // still end, because nobody is there to read the answer.
      await abort;
    } finally {
      await waiting.close();
    }
  });

  it("the README says where else the window's secret shows, and why that is no way in", () => {
    const readme = readmeSection('In the terminal');
    assert.match(readme, /\*\*Terminal: Show Environment\s+Contributions\*\* shows it/);
    assert.match(readme, /only of use to someone\s+already running programs as you/);
  });

  it('closing the endpoint removes its socket', async () => {
    const other = await openTerminalEndpoint(planEndpoint(directory), async () => ({ kind: 'done' }), logger);
    await other.close();
    assert.throws(() => lstatSync(other.path), /ENOENT/);
  });
});
