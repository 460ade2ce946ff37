// The loopback callback server under attack while a real sign-in waits for its browser redirect.
//
// A loopback sign-in is started against the real test IdP; while it waits, 10,000+ requests are sent
// at its callback port over raw TCP (16 at a time, each on its own connection, so malformed bytes
// reach the server as they are): random methods and paths, missing, duplicate and oversized
// parameters, wrong `state`, `error=` with a wrong state, the right state through a foreign Host,
// a wrong method or a wrong path, URLs and headers beyond 8 KiB, and plain garbage. Some connections
// send half a request and stall. Then the real redirect arrives and must complete the sign-in.
//
// Asserted: the sign-in completes with the right identity; no fuzz request got a 200; no answer
// contains anything the request carried (each parameter value is a unique marker); every complete
// request was answered or refused by closing; the stalled connections did not hold the server open;
// the port is closed afterwards; the heap after a forced GC grew by less than 20 MB. The figures
// measured (requests, statuses, heap growth) are printed as a diagnostic.
//
// GC: run with `node --expose-gc` to use global.gc; without it the test enables it at run time
// through v8.setFlagsFromString, which works in Node 20 as well.
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadCallbackPages } from '../../src/oauth/callbackPages.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithLoopback } from '../../src/oauth/loopback.js';
import type { SignInResult } from '../../src/oauth/types.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { findLeaks, recordOutput } from '../support/secretLedger.js';
import { portClosed } from '../support/net.js';

const scopes = ['openid', 'profile', 'email', 'offline_access'];
const pages = loadCallbackPages(join(__dirname, '../../media'));
const totalRequests = 10_000;
const concurrency = 16;
const stalledConnections = 8;
/** A guard so a lost answer cannot hang the suite; it is not a performance bound. */
const perRequestGuardMs = 15_000;
const heapGrowthBound = 20 * 1024 * 1024;

function forcedGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Deterministic randomness, so a failure can be replayed with the same seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}

interface FuzzRequest {
  category: string;
  payload: Buffer;
  /** Unique strings the request carried; none may come back. */
  markers: string[];
  /** False for requests that are not complete HTTP messages (garbage): answered or not, both fine. */
  complete: boolean;
}

/** The refusal each kind of request must get ('closed': the parser refuses by closing). */
const refusals: Record<string, readonly string[]> = {
  'foreign Host with the right state': ['421'],
  'HTTP/1.0 without Host, right state': ['421'],
  'wrong method with the right state': ['405'],
  // A '#' in the target leaves no query: no state at all.
  'wrong path with the right state': ['404', '400'],
  'duplicate parameters': ['400'],
  'wrong state': ['400'],
  'error with wrong state': ['400'],
  'oversized parameter': ['400'],
  'URL over 8 KiB': ['closed'],
  'headers over 8 KiB': ['closed'],
};

interface FuzzOutcome {
  /** The final status line's code, or 'closed' when the server refused by closing without an answer. */
  status: string;
  raw: string;
}

/** One request on its own connection: resolves with what came back once the server closed it. */
function sendRaw(port: number, payload: Buffer): Promise<FuzzOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (guard = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const statuses = [...raw.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)].map((match) => match[1]!);
      resolve({ status: guard ? 'no answer within the guard' : statuses.at(-1) ?? 'closed', raw });
    };
    const timer = setTimeout(() => finish(true), perRequestGuardMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => finish());
    socket.on('close', () => finish());
    socket.on('connect', () => socket.end(payload));
  });
}


/** Builds the fuzz corpus for one callback port and its real state (used only where it must be refused). */
function fuzzer(port: number, rightState: string, seed: number) {
  const random = prng(seed);
  const host = `127.0.0.1:${port}`;
  let serial = 0;
  const marker = () => `zq${(serial++).toString(36)}x${random.int(0xffffff).toString(36)}k`;
  const request = (category: string, lines: string[], markers: string[], body = ''): FuzzRequest => ({
    category,
    payload: Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1'),
    markers,
    complete: true,
  });
  const get = (category: string, target: string, markers: string[], extraHeaders: string[] = [], method = 'GET') =>
    request(category, [`${method} ${target} HTTP/1.1`, `Host: ${host}`, ...extraHeaders], markers);
  /** A value that is not the state: near misses included. */
  const wrongState = (): string => {
    const m = marker();
    switch (random.int(6)) {
      case 0: return m;
      case 1: return `${rightState.slice(0, -1)}${rightState.endsWith('A') ? 'B' : 'A'}${m}`;
      case 2: return `${rightState}${m}`;
      case 3: return `${m}${rightState}`;
      case 4: return `${rightState.toUpperCase() === rightState ? rightState.toLowerCase() : rightState.toUpperCase()}${m}`;
      default: return `${rightState.slice(0, 8)}${m}`;
    }
  };
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'CONNECT', 'GETT', 'get', 'M-SEARCH'];
  const paths = ['/', '/callback', '/callback/', '/Callback', '/CALLBACK', '/callback/x', '/callbackx', '/%63allback', '//callback', '/callback;x', '/favicon.ico', '/../callback', '/callback%00', '/.well-known/x', '/index.html'];

  const generators: Array<() => FuzzRequest> = [
    // Random method and path with a wrong state (HEAD and GET on /callback included).
    () => {
      const [code, state] = [marker(), wrongState()];
      const method = random.pick(methods);
      const path = random.pick(paths);
      return get('method x path', `${path}?code=${code}&state=${encodeURIComponent(state)}`, [code, state], [], method);
    },
    // Missing parameters.
    () => {
      const m = marker();
      const target = random.pick([`/callback`, `/callback?`, `/callback?code=${m}`, `/callback?state=&code=${m}`, `/callback?error=${m}`, `/callback?code=${m}&iss=${m}`, `/callback?&&&=${m}`]);
      return get('missing parameters', target, [m]);
    },
    // Duplicate parameters, the right state among them: two states are never one.
    () => {
      const [a, b] = [marker(), marker()];
      const target = random.pick([
        `/callback?code=${a}&state=${rightState}&state=${rightState}`,
        `/callback?code=${a}&state=${b}&state=${rightState}`,
        `/callback?code=${a}&state=${rightState}&state=${b}`,
        `/callback?code=${a}&code=${b}&state=${encodeURIComponent(wrongState())}`,
        `/callback?state=${rightState}&code=${a}&State=${b}&state=`,
      ]);
      return get('duplicate parameters', target, [a, b]);
    },
    // Oversized parameter values that still fit the 8 KiB header limit.
    () => {
      const m = marker();
      const state = wrongState();
      const size = 1_000 + random.int(6_000);
      return get('oversized parameter', `/callback?code=${m}${'A'.repeat(size)}&state=${encodeURIComponent(state)}&error_description=${m}`, [m, state]);
    },
    // A wrong state, near misses of the right one included.
    () => {
      const [code, state, iss] = [marker(), wrongState(), marker()];
      return get('wrong state', `/callback?code=${code}&state=${encodeURIComponent(state)}&iss=${iss}`, [code, state, iss]);
    },
    // An error response with a wrong state must not end the sign-in.
    () => {
      const [description, state, uri] = [marker(), wrongState(), marker()];
      const error = random.pick(['access_denied', 'server_error', 'invalid_request', `x${marker()}`]);
      return get('error with wrong state', `/callback?error=${encodeURIComponent(error)}&error_description=${description}&error_uri=https%3A%2F%2F${uri}&state=${encodeURIComponent(state)}`, [description, state, uri, ...(error.startsWith('x') ? [error.slice(1)] : [])]);
    },
    // The right state, but through a Host the server was not started on (DNS rebinding).
    () => {
      const code = marker();
      const foreign = random.pick([`evil.example`, `evil.example:${port}`, `127.0.0.1`, `127.0.0.1:${port + 1}`, `127.0.0.2:${port}`, `0.0.0.0:${port}`, `[::1]:${port}`, `localhost.evil.example:${port}`, `127.0.0.1:${port}.evil.example`, `${marker()}:${port}`]);
      return request('foreign Host with the right state', [`GET /callback?code=${code}&state=${rightState} HTTP/1.1`, `Host: ${foreign}`], [code]);
    },
    // The right state with a method other than GET (HEAD with the right state is a harmless 200).
    () => {
      const code = marker();
      const method = random.pick(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']);
      return request('wrong method with the right state', [`${method} /callback?code=${code}&state=${rightState} HTTP/1.1`, `Host: ${host}`, 'Content-Length: 0'], [code]);
    },
    // The right state on a path that is not /callback, or in absolute form.
    () => {
      const code = marker();
      const target = random.pick([`/callback/x?code=${code}&state=${rightState}`, `/?code=${code}&state=${rightState}`, `/callbac?code=${code}&state=${rightState}`, `http://${host}/callback?code=${code}&state=${rightState}`, `/callback#?code=${code}&state=${rightState}`]);
      return get('wrong path with the right state', target, [code]);
    },
    // URLs beyond 8 KiB: refused by the parser.
    () => {
      const m = marker();
      return { ...get('URL over 8 KiB', `/callback?code=${m}&state=${encodeURIComponent(wrongState())}&pad=${'p'.repeat(8_500 + random.int(12_000))}`, [m]) };
    },
    // Headers beyond 8 KiB: one huge header, or many.
    () => {
      const m = marker();
      const headers = random.next() < 0.5
        ? [`X-Pad: ${m}${'h'.repeat(9_000 + random.int(8_000))}`]
        : Array.from({ length: 300 }, (_, index) => `X-Pad-${index}: ${m}${'h'.repeat(30)}`);
      return get('headers over 8 KiB', `/callback?code=${marker()}&state=${encodeURIComponent(wrongState())}`, [m], headers);
    },
    // Odd but complete messages: bodies on GET, Expect, chunked, HTTP/1.0 without Host, XSS bait.
    () => {
      const [m, n] = [marker(), marker()];
      const state = encodeURIComponent(wrongState());
      switch (random.int(7)) {
        case 0: return request('GET with a body', [`GET /callback?state=${state}&code=${m} HTTP/1.1`, `Host: ${host}`, `Content-Length: ${n.length}`], [m, n], n);
        case 1: return request('chunked GET', [`GET /callback?state=${state}&code=${m} HTTP/1.1`, `Host: ${host}`, 'Transfer-Encoding: chunked'], [m, n], `${n.length.toString(16)}\r\n${n}\r\n0\r\n\r\n`);
        case 2: return get('Expect: 100-continue', `/callback?state=${state}&code=${m}`, [m], ['Expect: 100-continue', 'Content-Length: 0']);
        case 3: return get('unknown Expect', `/callback?state=${state}&code=${m}`, [m, n], [`Expect: ${n}`]);
        case 4: return request('HTTP/1.0 without Host, right state', [`GET /callback?code=${m}&state=${rightState} HTTP/1.0`], [m]);
        case 5: return get('markup in parameters', `/callback?state=${state}&code=%3Cscript%3E${m}%3C%2Fscript%3E&error_description=%22%3E%3Cimg%20src%3Dx%20onerror%3D${n}%3E`, [m, n]);
        default: return get('odd encodings', `/callback?state=%00${state}&code=%FF%FE${m}&%zz=${n}`, [m, n]);
      }
    },
    // Not HTTP, or broken HTTP.
    () => {
      const m = marker();
      const payloads = [
        `GARBAGE ${m}\r\n\r\n`,
        `GET\r\n\r\n`,
        `GET /callback?code=${m} HTTP/9.9\r\nHost: ${host}\r\n\r\n`,
        `GET /callback?code=${m} HTTP/1.1\r\nHost ${host}\r\n\r\n`,
        `GET /call back?code=${m} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
        `GET /callback?code=${m}\x01 HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
        `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${m}`,
        `OPTIONS * HTTP/1.1\r\nHost: ${host}\r\nX-M: ${m}\r\n\r\n`,
        `GET /callback?code=${m} HTTP/1.1\r\nHost: ${host}\r\nHost: evil.example\r\n\r\n`,
        `GET /callback?code=${m} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy`,
        `GET /callback?code=${m} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n`,
        `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03${m}`,
        `GET /callback?code=${m}&state=x HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /callback?code=${m} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      ];
      return { category: 'malformed HTTP', payload: Buffer.from(random.pick(payloads), 'latin1'), markers: [m], complete: false };
    },
  ];

  return { next: () => random.pick(generators)() };
}

describe('the loopback callback server under fuzzing while a real sign-in waits', () => {
  let idp: TestIdp;
  let client: OAuthClient;
  const logger = captureLogger();

  before(async () => {
    idp = await startTestIdp();
    client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger });
    await client.metadata();
  });
  after(() => idp.close());

  it(`takes ${totalRequests} hostile requests, then completes the real sign-in`, { timeout: 10 * 60_000 }, async () => {
    const gc = forcedGc();
    const serversBefore = process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;

    let authorizeUrl!: string;
    let browserOpened!: () => void;
    const opened = new Promise<void>((resolve) => (browserOpened = resolve));
    let settled = false;
    const signIn: Promise<SignInResult> = signInWithLoopback(client, {
      logger,
      scopes,
      pages,
      timeoutMs: 30 * 60_000,
      openBrowser: async (url) => {
        authorizeUrl = url;
        browserOpened();
        return true;
      },
    }).finally(() => (settled = true));
    signIn.catch(() => undefined);
    await opened;
    const authorize = new URL(authorizeUrl);
    const port = Number(new URL(authorize.searchParams.get('redirect_uri')!).port);
    const rightState = authorize.searchParams.get('state')!;
    assert.ok(port > 0 && rightState.length >= 16);

    gc();
    const heapBefore = process.memoryUsage().heapUsed;

    // Half requests that stall: the server must not wait for them to finish the sign-in.
    const stalled = Array.from({ length: stalledConnections }, (_, index) => {
      const socket = connect({ host: '127.0.0.1', port });
      const state = { closedByServer: false, socket };
      socket.on('error', () => undefined);
      // Read whatever comes, so the server's FIN is seen.
      socket.resume();
      socket.on('close', () => (state.closedByServer = true));
      socket.on('connect', () =>
        socket.write(
          [
            `GET /callback?state=${rightState.slice(0, 5)}`,
            `GET /callback?state=x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `,
            `POST /callback?state=x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: 1000\r\n\r\npartial`,
            `G`,
          ][index % 4]!,
        ),
      );
      return state;
    });

    const corpus = fuzzer(port, rightState, 0x0a17_5eed);
    const statuses = new Map<string, number>();
    const categories = new Map<string, number>();
    const echoes: string[] = [];
    const unanswered: string[] = [];
    const got200: string[] = [];
    const wrongRefusals = new Map<string, number>();
    const pagesSeen = new Set<string>();
    let sent = 0;
    const worker = async () => {
      while (sent < totalRequests) {
        sent++;
        const fuzz = corpus.next();
        const outcome = await sendRaw(port, fuzz.payload);
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        categories.set(fuzz.category, (categories.get(fuzz.category) ?? 0) + 1);
        if (outcome.status === '200') got200.push(`${fuzz.category}: ${fuzz.payload.toString('latin1').slice(0, 200)}`);
        if (outcome.status.startsWith('no answer') && fuzz.complete) unanswered.push(fuzz.category);
        const refusal = refusals[fuzz.category];
        if (refusal && !refusal.includes(outcome.status)) wrongRefusals.set(`${fuzz.category} -> ${outcome.status}`, (wrongRefusals.get(`${fuzz.category} -> ${outcome.status}`) ?? 0) + 1);
        const echoed = fuzz.markers.filter((value) => outcome.raw.includes(value));
        if (echoed.length || outcome.raw.includes(rightState)) echoes.push(`${fuzz.category}: ${outcome.raw.slice(0, 300)}`);
        const body = outcome.raw.split('\r\n\r\n').slice(1).join('\r\n\r\n');
        if (body && pagesSeen.size < 50) pagesSeen.add(body);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));

    assert.equal(sent, totalRequests);
    assert.equal(settled, false, 'no fuzz request ended the sign-in');
    assert.deepEqual(got200, [], 'no fuzz request got a 200');
    assert.deepEqual(echoes, [], 'no answer echoes a parameter value, a header or the state');
    assert.deepEqual(unanswered, [], 'every complete request was answered or refused by closing');
    assert.deepEqual(Object.fromEntries(wrongRefusals), {}, 'each request is refused for its own reason');
    for (const page of pagesSeen) recordOutput('callbackFuzz page', page);
    const stalledClosedDuringFuzz = stalled.filter((entry) => entry.closedByServer).length;

    // The real browser now comes back with the real code.
    const browser = await idp.authorize(authorizeUrl);
    const result = await signIn;
    assert.equal(browser.status, 200);
    assert.equal(result.identity.subject, 'demo-user');
    assert.equal(result.identity.label, 'demo');
    assert.equal((await idp.userinfo(result.tokens.accessToken)).status, 200);
    assert.deepEqual(findLeaks(browser.body ?? '', idp.issued), [], 'the success page carries no secret');
    recordOutput('callbackFuzz success page', browser.body ?? '');

    assert.ok(await portClosed(port), 'the callback port is closed after the sign-in');
    // Closing the server cut the stalled connections too (bounded wait for their close events).
    for (let turn = 0; turn < 500 && stalled.some((entry) => !entry.closedByServer); turn++) await new Promise((resolve) => setTimeout(resolve, 10));
    const stalledLeft = stalled.filter((entry) => !entry.closedByServer).length;
    for (const entry of stalled) entry.socket.destroy();
    assert.equal(stalledLeft, 0, 'the server closed every stalled connection');
    const serversAfter = process.getActiveResourcesInfo().filter((kind) => kind === 'TCPServerWrap').length;
    assert.equal(serversAfter, serversBefore, 'no listening socket left behind');

    gc();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    const report = {
      requests: sent,
      statuses: Object.fromEntries([...statuses].sort()),
      categories: Object.fromEntries([...categories].sort()),
      heapGrowthBytes: growth,
      stalledClosedBeforeSignInEnded: stalledClosedDuringFuzz,
    };
    console.log(`callback fuzz: ${JSON.stringify(report)}`);
    assert.ok(growth < heapGrowthBound, `heap grew by ${(growth / 1024 / 1024).toFixed(1)} MB over the fuzz`);
  });
});
