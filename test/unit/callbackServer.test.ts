import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, test } from 'node:test';
import type { CallbackPages } from '../../src/oauth/callbackPages.js';
import { startCallbackServer, type CallbackServer, type CallbackServerOptions } from '../../src/oauth/callbackServer.js';
import { OAuthError, reasonOf } from '../../src/oauth/errors.js';
import { signInFailureMessage } from '../../src/vscode/errorMessages.js';
import { format } from '../support/renderedText.js';

const state = 'state-7Gq2pXo9';
const code = 'code-SplxlOBeZQQYbYS6WxSbIA';

const pages: CallbackPages = {
  success: (label) => `<p>SUCCESS for ${label}</p>`,
  failure: (message) => `<p>FAILURE: ${message}</p>`,
};

interface Reply {
  status: number;
  body: string;
}

/** One request on a fresh connection, with full control over method and Host (fetch forbids Host). */
function send(port: number, path: string, options: { method?: string; host?: string; address?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: options.address ?? '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: options.host ?? `127.0.0.1:${port}` }, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Resolves with the connection error code, or 'connected' if something accepted the connection. */
function tryConnect(port: number, address = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

const started: CallbackServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()));
});

interface Harness {
  server: CallbackServer;
  calls: URLSearchParams[];
}

async function start(onCallback?: CallbackServerOptions['onCallback']): Promise<Harness> {
  const calls: URLSearchParams[] = [];
  const server = await startCallbackServer({
    expectedState: state,
    pages,
    onCallback: async (parameters) => {
      calls.push(parameters);
      return onCallback ? onCallback(parameters) : { ok: true, label: 'demo@example.test' };
    },
  });
  started.push(server);
  return { server, calls };
}

const callbackPath = (query: string) => `/callback?${query}`;
const goodQuery = `code=${code}&state=${state}&iss=${encodeURIComponent('https://idp.example.test')}`;

describe('startCallbackServer', () => {
  test('listens on 127.0.0.1 with a system-chosen port and a matching redirect URI', async () => {
    const { server } = await start();
    assert.ok(server.port > 0);
    assert.equal(server.redirectUri, `http://127.0.0.1:${server.port}/callback`);
    assert.equal(await tryConnect(server.port), 'connected');
  });

  test('is not reachable on any other address of this machine', async (t) => {
    const { server } = await start();
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((info) => info !== undefined && !info.internal && info.family === 'IPv4')
      .map((info) => info!.address);
    // On Linux all of 127.0.0.0/8 answers locally, so 127.0.0.2 shows a 127.0.0.1-only bind.
    if (process.platform === 'linux') others.push('127.0.0.2');
    if (others.length === 0) return t.skip('no other address to try');
    for (const address of others) assert.notEqual(await tryConnect(server.port, address), 'connected', `reachable on ${address}`);
  });

  test('the right redirect: onCallback once with the parameters, the success page, then the port is closed', async () => {
    const { server, calls } = await start();
    const reply = await send(server.port, callbackPath(goodQuery));
    assert.equal(reply.status, 200);
    assert.match(reply.body, /SUCCESS for demo@example\.test/);
    assert.ok(!reply.body.includes(code), 'the page never echoes the code');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.get('code'), code);
    assert.equal(calls[0]!.get('state'), state);
    assert.equal(calls[0]!.get('iss'), 'https://idp.example.test');
    await server.done;
    assert.equal(await tryConnect(server.port), 'ECONNREFUSED');
  });

  test('a wrong state gets 400 and the server keeps waiting for the real redirect', async () => {
    const { server, calls } = await start();
    const wrong = await send(server.port, callbackPath(`code=${code}&state=someone-elses`));
    assert.equal(wrong.status, 400);
    assert.ok(!wrong.body.includes(code));
    assert.equal(calls.length, 0);
    const right = await send(server.port, callbackPath(goodQuery));
    assert.equal(right.status, 200);
    assert.equal(calls.length, 1);
  });

  test('a missing state gets 400', async () => {
    const { server, calls } = await start();
    assert.equal((await send(server.port, callbackPath(`code=${code}`))).status, 400);
    assert.equal(calls.length, 0);
  });

  test('duplicate state parameters get 400, even when one is right', async () => {
    const { server, calls } = await start();
    assert.equal((await send(server.port, callbackPath(`${goodQuery}&state=${state}`))).status, 400);
    assert.equal((await send(server.port, callbackPath(`state=${state}&state=other&code=${code}`))).status, 400);
    assert.equal(calls.length, 0);
  });

  test('a foreign Host header gets 421, even with the right state (DNS rebinding)', async () => {
    const { server, calls } = await start();
    for (const host of [`evil.example:${server.port}`, '127.0.0.1', `127.0.0.1:${server.port + 1}`]) {
      const reply = await send(server.port, callbackPath(goodQuery), { host });
      assert.equal(reply.status, 421, `Host: ${host}`);
    }
    assert.equal(calls.length, 0);
    assert.equal((await send(server.port, callbackPath(goodQuery))).status, 200);
  });

  test('localhost:PORT and hosts added with allowHost are answered', async () => {
    const first = await start();
    assert.equal((await send(first.server.port, callbackPath(goodQuery), { host: `LOCALHOST:${first.server.port}` })).status, 200);

    const second = await start();
    second.server.allowHost('Forwarded.Example.Test:443');
    assert.equal((await send(second.server.port, callbackPath(goodQuery), { host: 'forwarded.example.test:443' })).status, 200);
  });

  test('POST gets 405', async () => {
    const { server, calls } = await start();
    assert.equal((await send(server.port, callbackPath(goodQuery), { method: 'POST' })).status, 405);
    assert.equal(calls.length, 0);
  });

  test('another path gets 404', async () => {
    const { server, calls } = await start();
    for (const path of ['/', '/favicon.ico', `/callback/extra?${goodQuery}`, `/other?${goodQuery}`]) {
      assert.equal((await send(server.port, path)).status, 404, path);
    }
    assert.equal(calls.length, 0);
  });

  test('a second redirect while the first is being handled gets 409 and no second onCallback', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { server, calls } = await start(async () => {
      await held;
      return { ok: true, label: 'x' };
    });
    const first = send(server.port, callbackPath(goodQuery));
    while (calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = await send(server.port, callbackPath(goodQuery));
    assert.equal(second.status, 409);
    release();
    assert.equal((await first).status, 200);
    assert.equal(calls.length, 1);
  });

  test('a failed sign-in shows the failure page without the code, and closes', async () => {
    const { server } = await start(async () => ({ ok: false, message: 'The identity provider refused the code.' }));
    const reply = await send(server.port, callbackPath(goodQuery));
    assert.equal(reply.status, 400);
    assert.match(reply.body, /FAILURE: The identity provider refused the code\./);
    assert.ok(!reply.body.includes(code));
    await server.done;
    assert.equal(await tryConnect(server.port), 'ECONNREFUSED');
  });

  test('onCallback throwing shows a generic failure, not the error text (it may hold the code)', async () => {
    const { server } = await start(async () => {
      throw new Error(`token request with ${code} failed`);
    });
    const reply = await send(server.port, callbackPath(goodQuery));
    assert.equal(reply.status, 400);
    assert.ok(!reply.body.includes(code));
    assert.match(reply.body, /log/);
  });

  test('onCallback throwing an OAuthError shows its message', async () => {
    const { server } = await start(async () => {
      throw new OAuthError('denied', 'Sign-in was denied at the identity provider.');
    });
    const reply = await send(server.port, callbackPath(goodQuery));
    assert.match(reply.body, /Sign-in was denied/);
  });

  test('close() frees the port and settles done', async () => {
    const { server, calls } = await start();
    await server.close();
    await server.done;
    assert.equal(await tryConnect(server.port), 'ECONNREFUSED');
    assert.equal(calls.length, 0);
  });

  test('close() is safe to call twice', async () => {
    const { server } = await start();
    await Promise.all([server.close(), server.close()]);
    assert.equal(await tryConnect(server.port), 'ECONNREFUSED');
  });

  test('a fixed port another sign-in holds: port_in_use, whose advice is to wait for it or sign in with a code, not a port setting that cannot help', async () => {
    const { server } = await start();
    const error = await startCallbackServer({ port: server.port, expectedState: state, pages, onCallback: async () => ({ ok: true, label: 'x' }) }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError, String(error));
    assert.equal(reasonOf(error), 'port_in_use');
    assert.equal(error.message, `Cannot listen on 127.0.0.1:${server.port} for the sign-in redirect: the port is in use (EADDRINUSE).`);
    const { message } = signInFailureMessage(reasonOf(error), error.message, format)!;
    assert.match(message, /another sign-in/);
    assert.match(message, /sign in with a code/);
    // With a preset that fixes the port, 0 means that same port: advice to set 0 cannot help.
    assert.doesNotMatch(message, /to 0\b|\b0 \(any free port\)/);
  });
});
