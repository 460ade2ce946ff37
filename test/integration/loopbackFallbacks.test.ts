import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCallbackPages } from '../../src/oauth/callbackPages.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { cancelled, isOAuthError, reasonOf } from '../../src/oauth/errors.js';
import { signInWithLoopback, type LoopbackSignInOptions, type PasteEntry } from '../../src/oauth/loopback.js';
import type { SignInResult } from '../../src/oauth/types.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { portClosed } from '../support/net.js';

const logger = captureLogger();
const pages = loadCallbackPages(join(__dirname, '../../media'));
const scopes = ['openid', 'profile', 'email', 'offline_access'];

interface Started {
  /** What the browser was told to open: /start with a check, else the authorize URL. */
  opened: string;
  /** The authorize URL itself (from the paste entry). */
  paste: PasteEntry;
  outcome: Promise<SignInResult>;
  missed: () => number;
  /** Ends a sign-in the test leaves unfinished, so its server does not wait out its 5 minutes. */
  abort(): void;
}

const leftovers: Array<() => void> = [];

/** Starts a loopback sign-in whose "browser" does nothing by itself; the test plays the browser. */
async function start(client: OAuthClient, extra: Partial<LoopbackSignInOptions> & { checkMs?: number; forwardedAuthority?: string } = {}): Promise<Started> {
  let missed = 0;
  let opened!: (url: string) => void;
  const openedUrl = new Promise<string>((resolve) => (opened = resolve));
  let paste: PasteEntry | undefined;
  const controller = new AbortController();
  leftovers.push(() => controller.abort());
  const outcome = signInWithLoopback(client, {
    signal: controller.signal,
    logger,
    scopes,
    pages,
    onPasteReady: (entry) => (paste = entry),
    browserCheck: extra.checkMs === undefined ? undefined : () => ({ timeoutMs: extra.checkMs!, onMissed: () => missed++, forwardedAuthority: extra.forwardedAuthority }),
    openBrowser: async (url) => {
      opened(url);
      return true;
    },
    ...extra,
  });
  outcome.catch(() => undefined);
  const url = await openedUrl;
  assert.ok(paste, 'the paste entry is handed out before the browser opens');
  return { opened: url, paste, outcome, missed: () => missed, abort: () => controller.abort() };
}

/** GET /start as a browser would, without following the redirect; `host` plays a port forward's Host header. */
function visitStart(url: string, host?: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { headers: host ? { host } : {} }, (answer) => {
      answer.resume();
      resolve({ status: answer.statusCode ?? 0, location: answer.headers.location });
    });
    sent.on('error', reject);
    sent.end();
  });
}

/** Resolves after `ms` of real time: only to let a timer that must NOT fire have its chance. */
const quiet = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(probe: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await quiet(10);
  }
}

describe('loopback fallbacks against oidc-provider: the /start browser check and the paste step', () => {
  let idp: TestIdp;
  let client: OAuthClient;

  before(async () => {
    idp = await startTestIdp();
    client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger });
  });
  after(async () => {
    for (const abort of leftovers) abort();
    await idp.close();
  });

  it('with a check, the browser is sent to 127.0.0.1:PORT/start, which redirects to the authorize URL; reaching it means no switch', async () => {
    const started = await start(client, { checkMs: 150 });
    const opened = new URL(started.opened);
    assert.equal(opened.pathname, '/start');
    assert.equal(opened.hostname, '127.0.0.1');
    const answer = await visitStart(started.opened);
    assert.equal(answer.status, 302);
    const location = answer.location!;
    assert.equal(location, started.paste.authorizeUrl, '/start sends the browser on to the identity provider');
    assert.equal(new URL(location).origin, new URL(idp.issuer).origin);
    const [result] = await Promise.all([started.outcome, idp.authorize(location, { decision: 'approve' })]);
    assert.equal(result.identity.label, 'demo');
    await quiet(300);
    assert.equal(started.missed(), 0, 'the browser arrived: no switch');
  });

  it('without a check, the identity provider is opened directly (nothing changes for flow "loopback")', async () => {
    const started = await start(client);
    assert.equal(started.opened, started.paste.authorizeUrl);
    const [result] = await Promise.all([started.outcome, idp.authorize(started.opened, { decision: 'approve' })]);
    assert.equal(result.identity.label, 'demo');
  });

  it('/start never reached: onMissed fires once, and the sign-in still completes when a slow browser arrives later', async () => {
    const started = await start(client, { checkMs: 50 });
    await until(() => started.missed() === 1, 'onMissed');
    await quiet(150);
    assert.equal(started.missed(), 1, 'reported once');
    const location = (await visitStart(started.opened)).location!;
    const [result] = await Promise.all([started.outcome, idp.authorize(location, { decision: 'approve' })]);
    assert.equal(result.identity.label, 'demo');
  });

  it('a port forward that moves the path may deliver /start with its own Host; any other Host is refused', async () => {
    const started = await start(client, { checkMs: 60_000, forwardedAuthority: '127.0.0.1:8080' });
    const foreign = await visitStart(started.opened, 'attacker.example:80');
    assert.equal(foreign.status, 421, 'a foreign Host (DNS rebinding) gets nothing');
    const forwarded = await visitStart(started.opened, '127.0.0.1:8080');
    assert.equal(forwarded.status, 302, 'the forward\'s Host is accepted');
    const [result] = await Promise.all([started.outcome, idp.authorize(forwarded.location!, { decision: 'approve' })]);
    assert.equal(result.identity.label, 'demo');
  });

  it('through a real port forward (a remote): /start and the callback arrive on the forwarded address, and the sign-in completes', async () => {
    let forwarder: Server | undefined;
    try {
      const started = await start(client, {
        checkMs: 60_000,
        // What asExternalUri does in a desktop remote: a TCP forward to the callback server, same path.
        forwardRedirect: async (local) => {
          const target = new URL(local);
          forwarder = createServer((socket) => {
            const upstream = connect(Number(target.port), '127.0.0.1');
            socket.pipe(upstream).pipe(socket);
            socket.on('error', () => upstream.destroy());
            upstream.on('error', () => socket.destroy());
          });
          await new Promise<void>((resolve) => forwarder!.listen(0, '127.0.0.1', resolve));
          const forwarded = new URL(local);
          forwarded.port = String((forwarder.address() as { port: number }).port);
          return forwarded.href;
        },
      });
      const forwardedPort = (forwarder!.address() as { port: number }).port;
      assert.equal(new URL(started.paste.redirectUri).port, String(forwardedPort), 'the identity provider is told the forwarded redirect URI');
      assert.notEqual(new URL(started.opened).port, String(forwardedPort), 'VS Code is given the local /start, which it forwards itself');
      const viaForward = await visitStart(`http://127.0.0.1:${forwardedPort}/start`);
      assert.equal(viaForward.status, 302, '/start answers through the forward');
      const delivered = await idp.authorize(viaForward.location!, { decision: 'approve' });
      assert.equal(new URL(delivered.callbackUrl).port, String(forwardedPort), 'the IdP redirects to the forwarded address');
      assert.equal(delivered.status, 200);
      assert.equal((await started.outcome).identity.label, 'demo');
      assert.equal(started.missed(), 0);
    } finally {
      forwarder?.close();
    }
  });

  it('paste: the redirected address, validated like a real callback, signs in; pasting again changes nothing', async () => {
    const started = await start(client);
    const { callbackUrl } = await idp.authorize(started.paste.authorizeUrl, { decision: 'approve', deliver: false });
    assert.ok(new URL(callbackUrl).searchParams.get('iss'), 'the IdP sends iss, so it is checked');
    assert.deepEqual(await started.paste.submit(`  ${callbackUrl}\n`), { status: 'finished' });
    const result = await started.outcome;
    assert.equal(result.identity.label, 'demo');
    assert.equal((await idp.userinfo(result.tokens.accessToken)).status, 200);
    assert.deepEqual(await started.paste.submit(callbackUrl), { status: 'finished' }, 'a second paste changes nothing');
  });

  it('paste: a text that is no response, or the address of another sign-in, asks again; the right one then signs in', async () => {
    const started = await start(client);
    const other = await start(client);
    const { callbackUrl: otherCallback } = await idp.authorize(other.paste.authorizeUrl, { decision: 'approve', deliver: false });
    const { callbackUrl } = await idp.authorize(started.paste.authorizeUrl, { decision: 'approve', deliver: false });

    const wrongState = await started.paste.submit(otherCallback);
    assert.equal(wrongState.status, 'retry');
    assert.match((wrongState as { reason: string }).reason, /another sign-in/);
    const garbage = await started.paste.submit('hello there');
    assert.equal(garbage.status, 'retry');
    const idpPage = await started.paste.submit(started.paste.authorizeUrl);
    assert.equal(idpPage.status, 'retry', 'the identity provider\'s own address is not the redirect');
    const wrongPath = new URL(callbackUrl);
    wrongPath.pathname = '/elsewhere';
    assert.equal((await started.paste.submit(wrongPath.href)).status, 'retry');

    assert.deepEqual(await started.paste.submit(callbackUrl), { status: 'finished' });
    assert.equal((await started.outcome).identity.label, 'demo');
    // The other sign-in is untouched by the wrong paste and still completes with its own response.
    assert.deepEqual(await other.paste.submit(otherCallback), { status: 'finished' });
    assert.equal((await other.outcome).identity.label, 'demo');
  });

  it('paste: a response naming another issuer (RFC 9207 iss) ends the sign-in as invalid_response', async () => {
    const started = await start(client);
    const { callbackUrl } = await idp.authorize(started.paste.authorizeUrl, { decision: 'approve', deliver: false });
    const exchanges = idp.count('token', 'authorization_code');
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('iss', 'https://attacker.example/');
    assert.deepEqual(await started.paste.submit(tampered.href), { status: 'finished' });
    const error = await started.outcome.catch((caught: unknown) => caught);
    assert.ok(isOAuthError(error, 'invalid_response'), String(error));
    assert.match((error as Error).message, /issuer/);
    assert.equal(idp.count('token', 'authorization_code'), exchanges, 'the code was never redeemed');
  });

  it('paste: a pasted denial ends the sign-in as "denied"', async () => {
    const started = await start(client);
    const { callbackUrl } = await idp.authorize(started.paste.authorizeUrl, { decision: 'deny', deliver: false });
    assert.equal(new URL(callbackUrl).searchParams.get('error'), 'access_denied');
    await started.paste.submit(callbackUrl);
    const error = await started.outcome.catch((caught: unknown) => caught);
    assert.ok(isOAuthError(error, 'denied'), String(error));
  });

  it('paste: the bare code alone signs in (PKCE binds it to this sign-in), and a code from another sign-in fails at the token endpoint', async () => {
    const started = await start(client);
    const { callbackUrl } = await idp.authorize(started.paste.authorizeUrl, { decision: 'approve', deliver: false });
    assert.deepEqual(await started.paste.submit(new URL(callbackUrl).searchParams.get('code')!), { status: 'finished' });
    assert.equal((await started.outcome).identity.label, 'demo');

    const victim = await start(client);
    const stranger = await start(client);
    const { callbackUrl: strangerCallback } = await idp.authorize(stranger.paste.authorizeUrl, { decision: 'approve', deliver: false });
    await victim.paste.submit(new URL(strangerCallback).searchParams.get('code')!);
    const error = await victim.outcome.catch((caught: unknown) => caught);
    assert.ok(isOAuthError(error, 'invalid_grant'), `another sign-in's code is refused: ${String(error)}`);
    stranger.abort();
  });

  it('whichever arrives first wins: after the browser delivered, a paste is not redeemed again', async () => {
    const started = await start(client);
    const { callbackUrl, status } = await idp.authorize(started.paste.authorizeUrl, { decision: 'approve' });
    assert.equal(status, 200);
    assert.equal((await started.outcome).identity.label, 'demo');
    const exchanges = idp.count('token', 'authorization_code');
    assert.deepEqual(await started.paste.submit(callbackUrl), { status: 'finished' });
    assert.equal(idp.count('token', 'authorization_code'), exchanges, 'no second code exchange');
  });

  it('cancelled while the port forward is set up: the browser is never opened, the port closes, the sign-in ends cancelled', async () => {
    const controller = new AbortController();
    const forward = gate<string>();
    let forwardAsked!: () => void;
    const asked = new Promise<void>((resolve) => (forwardAsked = resolve));
    let localPort = 0;
    const opened: string[] = [];
    const outcome = signInWithLoopback(client, {
      signal: controller.signal,
      logger,
      scopes,
      pages,
      forwardRedirect: (local) => {
        localPort = Number(new URL(local).port);
        forwardAsked();
        return forward.promise.then(() => local);
      },
      openBrowser: async (url) => {
        opened.push(url);
        return true;
      },
    });
    outcome.catch(() => undefined);
    await asked;
    controller.abort(cancelled());
    assert.ok(await portClosed(localPort), 'the callback server stopped listening at Cancel');
    forward.open('');
    const error = await outcome.catch((caught: unknown) => caught);
    assert.ok(isOAuthError(error, 'cancelled'), String(error));
    assert.deepEqual(opened, [], 'no browser opened for a cancelled sign-in');
  });

  it('cancelled while the browser is being opened (VS Code asking "open the external website?"): the port closes and the sign-in ends cancelled at once, with the question still open', async () => {
    const controller = new AbortController();
    const answer = gate<boolean>();
    let openAsked!: (url: string) => void;
    const asked = new Promise<string>((resolve) => (openAsked = resolve));
    const outcome = signInWithLoopback(client, {
      signal: controller.signal,
      logger,
      scopes,
      pages,
      browserCheck: () => ({ timeoutMs: 60_000, onMissed: () => undefined }),
      openBrowser: (url) => {
        openAsked(url);
        return answer.promise;
      },
    });
    outcome.catch(() => undefined);
    const startUrl = new URL(await asked);
    controller.abort(cancelled());
    assert.ok(await portClosed(Number(startUrl.port)), 'the callback server stopped listening at Cancel, with the question still open');
    const error = await outcome.catch((caught: unknown) => caught);
    assert.ok(isOAuthError(error, 'cancelled'), String(error));
    answer.open(true);
  });

  for (const pending of ['the port forward', 'the question whether to open the browser'] as const) {
    it(`times out while ${pending} never answers: browser_timeout, and the port closes`, async () => {
      const never = new Promise<never>(() => undefined);
      let localPort = 0;
      const outcome = signInWithLoopback(client, {
        logger,
        scopes,
        pages,
        timeoutMs: 300,
        forwardRedirect: (local) => {
          localPort = Number(new URL(local).port);
          return pending === 'the port forward' ? never : Promise.resolve(local);
        },
        openBrowser: () => never,
      });
      const error = await outcome.catch((caught: unknown) => caught);
      assert.equal(reasonOf(error), 'browser_timeout', String(error));
      assert.ok(localPort > 0, 'the port forward was asked for');
      assert.ok(await portClosed(localPort), 'the callback server stopped listening');
    });
  }
});

/** A promise the test opens when it chooses. */
function gate<T>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
