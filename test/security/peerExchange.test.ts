// The sockets over which the windows of one machine hand each other session entries: only this
// user can reach them, a dead window's socket is cleaned up, and what arrives is checked like data
// read from storage.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MachineCoordination } from '../../src/auth/coordination.js';
import { SessionStore, type StoredSession } from '../../src/auth/sessionStore.js';
import { silentLogger } from '../../src/oauth/types.js';
import { createSharedSecrets, never } from '../support/memorySecretStorage.js';
import { scratchDirectory } from '../support/scratch.js';

const identity = { providerId: 'oauth-anywhere', issuer: 'https://idp.example.test/', clientId: 'vscode-native' };

function session(id: string): StoredSession {
  return {
    id,
    account: { id: `https://idp.example.test/#${id}`, label: id },
    scopes: ['openid'],
    tokens: { accessToken: `access-${id}-0123456789`, tokenType: 'bearer', obtainedAt: 1, scopes: ['openid'] },
    createdAt: 1,
  };
}

const sockets = async (directory: string) => (await readdir(directory)).filter((name) => name.startsWith('peer-'));

/** Sends one raw line to a socket and returns the answer line. */
function rawRequest(path: string, line: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection(path, () => socket.write(line));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    // A connection cut by the server (oversized request) ends with what was answered: nothing.
    socket.on('error', () => resolve(answer));
  });
}

describe('peer exchange between the windows of one machine', () => {
  test('the runtime directory is 0700 and each window socket 0600', async () => {
    const directory = join(scratchDirectory(), 'runtime');
    const coordination = new MachineCoordination(silentLogger, { directory });
    try {
      assert.equal(await coordination.start(), true);
      assert.equal((await stat(directory)).mode & 0o777, 0o700);
      const [name] = await sockets(directory);
      assert.match(name!, /^peer-[0-9a-f]{32}\.sock$/);
      assert.equal((await stat(join(directory, name!))).mode & 0o777, 0o600);
    } finally {
      coordination.dispose();
    }
  });

  test("a dead window's socket is removed by the first window that finds nobody listening", async () => {
    const directory = scratchDirectory();
    // A window in another process that dies without cleaning up (SIGKILL).
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { MachineCoordination } = require(${JSON.stringify(join(__dirname, '../../src/auth/coordination.ts'))});
      new MachineCoordination({ trace() {}, debug() {}, info() {}, warn() {}, error() {} }, { directory: ${JSON.stringify(directory)} }).start().then(() => process.stdout.write('ready\\n'));
      setInterval(() => {}, 1000);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.equal((await sockets(directory)).length, 1, 'the dead window left its socket');
    const coordination = new MachineCoordination(silentLogger, { directory });
    try {
      await coordination.exchange.publish('any', []);
      assert.equal((await sockets(directory)).length, 1, 'only the live window\'s own socket is left');
    } finally {
      coordination.dispose();
    }
  });

  test('garbage, unknown operations and oversized requests are refused without harm', async () => {
    const directory = scratchDirectory();
    const coordination = new MachineCoordination(silentLogger, { directory });
    try {
      await coordination.start();
      const path = join(directory, (await sockets(directory))[0]!);
      assert.equal(await rawRequest(path, 'not json\n'), '{"ok":false}\n');
      assert.equal(await rawRequest(path, '{"v":1,"op":"delete-everything","store":"x"}\n'), '{"ok":false}\n');
      assert.equal(await rawRequest(path, `${'x'.repeat(1_100_000)}`), '', 'cut off without an answer');
      assert.equal(await rawRequest(path, '{"v":1,"op":"pull","store":"nothing here"}\n'), '{"ok":true,"entries":[]}\n');
    } finally {
      coordination.dispose();
    }
  });

  test("entries from another window are checked like stored ones: another issuer's or a malformed entry is ignored", async () => {
    const directory = scratchDirectory();
    const shared = createSharedSecrets(undefined, never);
    const [one, two] = [new MachineCoordination(silentLogger, { directory }), new MachineCoordination(silentLogger, { directory })];
    try {
      const receiver = new SessionStore(shared.window(), identity, silentLogger, { exchange: two.exchange });
      receiver.watch();
      await receiver.all();
      const good = { version: 2, id: 'a', issuer: identity.issuer, clientId: identity.clientId, revision: 1, updatedAt: 1, session: session('a') };
      const foreign = { ...good, id: 'b', issuer: 'https://evil.example/', session: session('b') };
      const broken = { ...good, id: 'c', session: { id: 'c' } };
      await one.exchange.publish(receiver.key, [foreign as never, broken as never, good as never]);
      assert.deepEqual((await receiver.all()).map((each) => each.id), ['a']);
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  test('a runtime directory removed while the window runs and made again by another user gets no tokens and no lock', { skip: process.getuid?.() !== 0 && 'needs root, to make a directory of another user' }, async () => {
    const directory = join(scratchDirectory(), 'runtime');
    const coordination = new MachineCoordination(silentLogger, { directory, peerTimeoutMs: 500 });
    const received: string[] = [];
    const squatter = createServer((socket) => socket.on('data', (chunk) => received.push(String(chunk))).end('{"v":1}\n'));
    try {
      assert.equal(await coordination.start(), true);
      // A tmp cleaner removes it; another user (uid 65534) makes it again, with a socket of theirs.
      await rm(directory, { recursive: true, force: true });
      await mkdir(directory, { mode: 0o777 });
      await chmod(directory, 0o777);
      await new Promise<void>((resolve) => squatter.listen(join(directory, `peer-${'a'.repeat(32)}.sock`), resolve));
      await chown(directory, 65534, 65534);
      const entry = { version: 2, id: 'a', issuer: identity.issuer, clientId: identity.clientId, revision: 1, updatedAt: 1, session: session('a') };
      await coordination.exchange.publish('store', [entry as never]);
      assert.deepEqual(await coordination.exchange.pull('store'), []);
      const lock = await coordination.lockSession('store', 'a');
      assert.equal(lock.exact, false, 'no lock taken in another user\'s directory');
      await lock.release();
      assert.deepEqual(received, [], 'nothing was sent to the other user\'s socket');
    } finally {
      squatter.close();
      coordination.dispose();
    }
  });
});
