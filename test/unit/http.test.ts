import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { boundedFetch } from '../../src/oauth/http.js';
import { OAuthError, type OAuthErrorKind } from '../../src/oauth/errors.js';

const maxBodyBytes = 4096;
const secretQuery = 'code=SplxlOBeZQQYbYS6WxSbIA&state=af0ifjsldkj';

/** Requests that reached the server and are held open, so a test can wait for "it arrived". */
const arrivals: Array<(path: string) => void> = [];
function nextArrival(): Promise<string> {
  return new Promise((resolve) => arrivals.push(resolve));
}

function route(request: IncomingMessage, response: ServerResponse): void {
  const path = new URL(request.url ?? '/', 'http://x').pathname;
  arrivals.shift()?.(path);
  switch (path) {
    case '/ok':
      response.writeHead(200, { 'content-type': 'application/json', 'x-custom': 'kept' });
      response.end(JSON.stringify({ method: request.method, ok: true }));
      return;
    case '/error':
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end('{"error":"invalid_grant"}');
      return;
    case '/no-content':
      response.writeHead(204);
      response.end();
      return;
    case '/redirect':
      response.writeHead(302, { location: '/ok' });
      response.end();
      return;
    case '/big-declared':
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(maxBodyBytes + 1) });
      response.end('x'.repeat(maxBodyBytes + 1));
      return;
    case '/big-chunked': {
      // No content-length: the size is only known by counting.
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'y'.repeat(1024);
      for (let i = 0; i < 8; i++) response.write(chunk);
      response.end();
      return;
    }
    case '/exactly-limit':
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('z'.repeat(maxBodyBytes / 2));
      response.end('z'.repeat(maxBodyBytes / 2));
      return;
    case '/stalled-body':
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"partial":');
      return; // never finishes
    case '/hang':
      return; // never answers
    default:
      response.writeHead(404);
      response.end();
  }
}

let server: Server;
let base: string;

before(async () => {
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failure(promise: Promise<unknown>, kind: OAuthErrorKind): Promise<OAuthError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OAuthError, `expected an OAuthError, got ${String(error)}`);
    assert.equal(error.kind, kind, error.message);
    return error;
  }
  return assert.fail(`expected a ${kind} failure`);
}

/** A port nothing listens on: bind one, then free it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const fetchWith = (timeoutMs = 5_000) => boundedFetch({ timeoutMs, maxBodyBytes });

describe('boundedFetch', () => {
  test('passes a normal answer through: status, headers and body', async () => {
    const response = await fetchWith()(`${base}/ok`, { method: 'POST', body: 'a=1' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-custom'), 'kept');
    assert.deepEqual(await response.json(), { method: 'POST', ok: true });
  });

  test('passes an error status through with its body', async () => {
    const response = await fetchWith()(`${base}/error`, {});
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error: 'invalid_grant' });
  });

  test('passes a 204 through without a body', async () => {
    const response = await fetchWith()(`${base}/no-content`, {});
    assert.equal(response.status, 204);
    assert.equal(await response.text(), '');
  });

  test('does not follow redirects', async () => {
    const response = await fetchWith()(`${base}/redirect`, {});
    assert.equal(response.status, 302);
  });

  test('accepts a body of exactly the limit', async () => {
    const response = await fetchWith()(`${base}/exactly-limit`, {});
    assert.equal((await response.text()).length, maxBodyBytes);
  });

  test('refuses a body whose content-length is over the limit', async () => {
    await failure(fetchWith()(`${base}/big-declared`, {}), 'invalid_response');
  });

  test('refuses a chunked body that grows over the limit', async () => {
    await failure(fetchWith()(`${base}/big-chunked`, {}), 'invalid_response');
  });

  test('no answer at all ends as a timeout, named in ms below a second (never "0 s")', async () => {
    const error = await failure(fetchWith(200)(`${base}/hang`, {}), 'timeout');
    assert.match(error.message, /did not answer within 200 ms/);
    assert.equal(error.details.answerLost, true, 'the request went out: its answer may be what was lost');
  });

  test('a body that stops arriving ends as a timeout', async () => {
    await failure(fetchWith(200)(`${base}/stalled-body`, {}), 'timeout');
  });

  test('a refused connection is a network failure', async () => {
    const port = await closedPort();
    const error = await failure(fetchWith()(`http://127.0.0.1:${port}/token`, {}), 'network');
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}/token`));
  });

  test('the caller aborting is a cancellation, even while waiting for the answer', async () => {
    const controller = new AbortController();
    const arrived = nextArrival();
    const pending = fetchWith()(`${base}/hang`, { signal: controller.signal });
    assert.equal(await arrived, '/hang');
    controller.abort();
    await failure(pending, 'cancelled');
  });

  test('an OAuthError given as the abort reason is what the caller gets', async () => {
    const controller = new AbortController();
    const reason = new OAuthError('expired', 'The sign-in code expired.');
    const arrived = nextArrival();
    const pending = fetchWith()(`${base}/hang`, { signal: controller.signal });
    await arrived;
    controller.abort(reason);
    const error = await failure(pending, 'expired');
    assert.equal(error, reason);
  });

  test('an already aborted signal is a cancellation', async () => {
    await failure(fetchWith()(`${base}/ok`, { signal: AbortSignal.abort() }), 'cancelled');
  });

  describe('never puts the query string in a message', () => {
    const cases: Array<[string, OAuthErrorKind, () => Promise<string>, number]> = [
      ['timeout', 'timeout', async () => `${base}/hang?${secretQuery}`, 200],
      ['network', 'network', async () => `http://127.0.0.1:${await closedPort()}/cb?${secretQuery}`, 5_000],
      ['oversized', 'invalid_response', async () => `${base}/big-chunked?${secretQuery}`, 5_000],
    ];
    for (const [name, kind, url, timeoutMs] of cases) {
      test(name, async () => {
        const error = await failure(fetchWith(timeoutMs)(await url(), {}), kind);
        assert.ok(!error.message.includes('SplxlOBeZQQYbYS6WxSbIA'), error.message);
        assert.ok(!/code=|state=|af0ifjsldkj/.test(error.message), error.message);
      });
    }

    test('nor in what the observer is told', async () => {
      const seen: string[] = [];
      await boundedFetch({ timeoutMs: 5_000, maxBodyBytes }, (url, method) => seen.push(`${method} ${url}`))(`${base}/ok?${secretQuery}`, {});
      assert.deepEqual(seen, [`GET ${base}/ok`]);
    });
  });
});
