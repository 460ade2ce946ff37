// The interactive sign-in as VS Code runs it (src/vscode/interactiveSignIn.ts: flow choice, the state
// machine, the view), in plain Node against the real test identity provider. Only VS Code's own
// parts are stood in for: its notifications and paste box (RecordingSurfaces), its port forwarding
// (asExternalUri) and its browser (openBrowser); the test plays the person and the browser.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SignInRequest } from '../../src/auth/sessionManager.js';
import { loadCallbackPages } from '../../src/oauth/callbackPages.js';
import type { Environment, FlowSetting } from '../../src/oauth/chooseFlow.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { isOAuthError, reasonOf } from '../../src/oauth/errors.js';
import type { SignInResult } from '../../src/oauth/types.js';
import { runInteractiveSignIn } from '../../src/vscode/interactiveSignIn.js';
import { fastPolling } from '../support/deviceSessionManager.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { meanwhile } from '../support/meanwhile.js';
import { portClosed } from '../support/net.js';
import { format } from '../support/renderedText.js';
import { RecordingSurfaces } from '../support/signInSurfaces.js';

const logger = captureLogger();
const pages = loadCallbackPages(join(__dirname, '../../media'));
const scopes = ['openid', 'profile', 'email', 'offline_access'];

const desktop: Environment = { remoteName: undefined, uiKind: 'desktop', extensionKind: 'workspace' };
const sshRemote: Environment = { remoteName: 'ssh-remote', uiKind: 'desktop', extensionKind: 'workspace' };
const browserUi: Environment = { remoteName: 'code-server', uiKind: 'web', extensionKind: 'workspace' };

interface Run {
  surfaces: RecordingSurfaces;
  outcome: Promise<SignInResult>;
  /** Every address the sign-in asked VS Code to open in the browser, in order. */
  opened: string[];
  /** Every address the sign-in asked VS Code to forward. */
  forwarded: string[];
}

interface RunOptions {
  client: OAuthClient;
  environment: Environment;
  flow?: FlowSetting;
  loopbackPort?: number;
  browserCheckSeconds?: number;
  /** VS Code's port forwarding; by default it keeps the address, as a desktop remote's forward does. */
  asExternalUri?(uri: string): Promise<string>;
  /** What the browser does with the address VS Code opened; by default nothing (it is elsewhere). */
  browser?(url: string): Promise<boolean>;
  request?: Partial<SignInRequest>;
}

function signIn(options: RunOptions): Run {
  const surfaces = new RecordingSurfaces();
  const opened: string[] = [];
  const forwarded: string[] = [];
  const { client } = options;
  const outcome = runInteractiveSignIn(
    { scopes, ...options.request },
    {
      client: { issuer: client.issuer, load: async () => client },
      settings: { flow: options.flow ?? 'auto', loopbackPort: options.loopbackPort ?? 0 },
      environment: options.environment,
      pages: () => pages,
      logger,
      browserCheckSeconds: options.browserCheckSeconds,
      surfaces,
      t: format,
      asExternalUri: (uri) => {
        forwarded.push(uri);
        return options.asExternalUri ? options.asExternalUri(uri) : Promise.resolve(uri);
      },
      openBrowser: (url) => {
        opened.push(url);
        return options.browser ? options.browser(url) : Promise.resolve(true);
      },
      deviceGrant: fastPolling,
    },
  );
  outcome.catch(() => undefined);
  return { surfaces, outcome, opened, forwarded };
}

/** A promise the test opens when it chooses, and a promise of the moment it was first waited on. */
function gate<T>(): { wait(): Promise<T>; asked: Promise<void>; open(value: T): void } {
  let open!: (value: T) => void;
  let asked!: () => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return {
    asked: new Promise<void>((resolve) => (asked = resolve)),
    wait: () => {
      asked();
      return promise;
    },
    open,
  };
}

/**
 * A browser sign-in in an SSH remote whose port forward (VS Code's asExternalUri) answers only when
 * the test opens `forward`: the moment a Cancel or a switch can arrive before the browser opens.
 */
function signInBehindPortForward(options: { client: OAuthClient; flow?: FlowSetting }): { run: Run; forward: ReturnType<typeof gate<void>> } {
  const forward = gate<void>();
  const run = signIn({
    ...options,
    environment: sshRemote,
    browserCheckSeconds: 60,
    asExternalUri: async (uri) => {
      await forward.wait();
      return uri;
    },
  });
  return { run, forward };
}

/** The error `outcome` ends with; fails when it does not end within `ms` (a deadline, not a measurement). */
async function failure(outcome: Promise<unknown>, ms = 10_000, what = 'the sign-in'): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms)));
  try {
    return await Promise.race([outcome.then(() => assert.fail(`${what} succeeded`), (error: unknown) => error), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** GET /start as the browser does, without following the redirect: the identity provider's address. */
function visitStart(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(url, (answer) => {
      answer.resume();
      if (answer.statusCode === 302 && answer.headers.location) resolve(answer.headers.location);
      else reject(new Error(`/start answered ${answer.statusCode}`));
    });
    sent.on('error', reject);
    sent.end();
  });
}

/** Lets every pending promise continuation run: whatever the sign-in does next without waiting, it has done. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function closedAll(run: Run): void {
  assert.deepEqual(
    run.surfaces.shown.filter((surface) => surface.open).map((surface) => surface.kind),
    [],
    'every surface closed with the sign-in',
  );
}

describe('the interactive sign-in (runner, state machine, view) against oidc-provider', () => {
  let idp: TestIdp;
  /** The test IdP as it is: authorization code and device grant. */
  let full: OAuthClient;
  /** The same IdP without a device endpoint (oauthAnywhere.endpoints without one). */
  let noDevice: OAuthClient;
  const held: Server[] = [];

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.05 });
    full = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger });
    const metadata = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    noDevice = new OAuthClient(
      {
        issuer: idp.issuer,
        clientId: idp.clientId,
        scopes,
        endpoints: { authorization_endpoint: metadata.authorization_endpoint, token_endpoint: metadata.token_endpoint, jwks_uri: metadata.jwks_uri, userinfo_endpoint: metadata.userinfo_endpoint },
      },
      { logger },
    );
  });
  after(async () => {
    for (const server of held) server.close();
    idp.clearFaults();
    await idp.close();
  });

  /** A port on 127.0.0.1 that something else holds, as another window's sign-in holds a preset's fixed port. */
  async function takenPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    held.push(server);
    return (server.address() as { port: number }).port;
  }

  /** A port on 127.0.0.1 that nothing holds now. */
  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('desktop: the browser reaches /start and approves; the sign-in ends with the account and its surfaces gone', async () => {
    const run = signIn({
      client: full,
      environment: desktop,
      browserCheckSeconds: 60,
      browser: async (url) => {
        meanwhile(visitStart(url).then((location) => idp.authorize(location, { decision: 'approve' })));
        return true;
      },
    });
    const result = await run.outcome;
    assert.equal(result.identity.label, 'demo');
    assert.deepEqual(run.surfaces.kinds(), ['preparing', 'browserWait']);
    assert.equal(new URL(run.opened[0]!).pathname, '/start');
    closedAll(run);
  });

  it('browser UI: the device code is shown and approved', async () => {
    const run = signIn({ client: full, environment: browserUi });
    const shown = await run.surfaces.open('deviceCode');
    assert.equal(shown.switchedBecause, undefined);
    meanwhile(idp.approveDevice(shown.prompt.userCode));
    assert.equal((await run.outcome).identity.label, 'demo');
    assert.deepEqual(run.surfaces.kinds(), ['preparing', 'deviceCode']);
    closedAll(run);
  });

  it('Cancel while the code is being requested ends the sign-in at once', async () => {
    idp.injectFault('device_authorization', { kind: 'delay', ms: 60_000 }, 1);
    try {
      const run = signIn({ client: full, environment: browserUi });
      const preparing = await run.surfaces.open('preparing');
      await until(() => idp.count('device_authorization') === 1, 'the device authorization request');
      preparing.cancel();
      const error = await failure(run.outcome);
      assert.ok(isOAuthError(error, 'cancelled'), String(error));
      assert.deepEqual(run.surfaces.kinds(), ['preparing'], 'no code was shown');
      closedAll(run);
    } finally {
      idp.clearFaults();
    }
  });

  it('"Use a code instead": a notification with Cancel while the code is requested; Cancel ends the sign-in and its callback server', async () => {
    idp.injectFault('device_authorization', { kind: 'delay', ms: 60_000 }, 1);
    try {
      const run = signIn({ client: full, environment: desktop, browserCheckSeconds: 60 });
      const waiting = await run.surfaces.open('browserWait');
      assert.equal(waiting.options.switchTo?.kind, 'device');
      await until(() => run.opened.length === 1, 'the browser opened');
      waiting.options.switchTo.run();
      const preparing = await run.surfaces.open('preparing');
      assert.match(preparing.message, /Signing in with a code instead of the browser\. Requesting a sign-in code/);
      await until(() => idp.count('device_authorization') === 1, 'the device authorization request');
      preparing.cancel();
      const error = await failure(run.outcome);
      assert.ok(isOAuthError(error, 'cancelled'), String(error));
      assert.ok(await portClosed(Number(new URL(run.opened[0]!).port)), 'the callback server stopped');
      closedAll(run);
    } finally {
      idp.clearFaults();
    }
  });

  it('remote without a device grant: Cancel while VS Code sets up the port forward ends the sign-in, and no browser opens afterwards', async () => {
    const { run, forward } = signInBehindPortForward({ client: noDevice });
    const waiting = await run.surfaces.open('browserWait');
    await forward.asked;
    waiting.cancel();
    const error = await failure(run.outcome, 10_000, 'the sign-in, with the port forward still pending');
    assert.ok(isOAuthError(error, 'cancelled'), String(error));
    closedAll(run);
    forward.open();
    await settle();
    assert.deepEqual(run.opened, [], 'no browser opened for the cancelled sign-in');
  });

  it('Cancel while VS Code asks whether to open the browser ends the sign-in without waiting for the answer', async () => {
    const answer = gate<boolean>();
    const run = signIn({ client: noDevice, environment: sshRemote, browserCheckSeconds: 60, browser: () => answer.wait() });
    const waiting = await run.surfaces.open('browserWait');
    await answer.asked;
    waiting.cancel();
    const error = await failure(run.outcome, 10_000, 'the sign-in, with the browser question unanswered');
    assert.ok(isOAuthError(error, 'cancelled'), String(error));
    assert.ok(await portClosed(Number(new URL(run.opened[0]!).port)), 'the callback server stopped at Cancel');
    answer.open(true);
    closedAll(run);
  });

  it('"Paste the address instead" before the port forward produced the address: the paste box comes once it exists, and the pasted address signs in', async () => {
    const { run, forward } = signInBehindPortForward({ client: noDevice });
    const waiting = await run.surfaces.open('browserWait');
    assert.equal(waiting.options.switchTo?.kind, 'paste');
    await forward.asked;
    waiting.options.switchTo.run();
    const preparing = await run.surfaces.open('preparing');
    assert.match(preparing.message, /Approve the sign-in in your browser\. Preparing the sign-in address/);
    forward.open();
    const paste = await run.surfaces.open('paste');
    assert.match(paste.options.because, /Approve the sign-in in your browser/);
    const { callbackUrl } = await idp.authorize(paste.options.entry.authorizeUrl, { decision: 'approve', deliver: false });
    assert.deepEqual(await paste.options.entry.submit(callbackUrl), { status: 'finished' });
    assert.equal((await run.outcome).identity.label, 'demo');
    assert.equal(run.opened.length, 1, 'the browser opens for the paste step, where the person approves');
    assert.deepEqual(run.surfaces.kinds(), ['preparing', 'browserWait', 'preparing', 'paste']);
    closedAll(run);
  });

  it('"Use a code instead" before the browser opened: the code is shown and the browser is not opened after all', async () => {
    const { run, forward } = signInBehindPortForward({ client: full, flow: 'loopback' });
    const waiting = await run.surfaces.open('browserWait');
    assert.equal(waiting.options.switchTo?.kind, 'device');
    await forward.asked;
    waiting.options.switchTo.run();
    const code = await run.surfaces.open('deviceCode');
    forward.open();
    const [local] = run.forwarded;
    assert.ok(local, 'the redirect was forwarded');
    await eventually(() => portClosed(Number(new URL(local).port)), 'the unused callback server closing while the code is still shown');
    meanwhile(idp.approveDevice(code.prompt.userCode));
    assert.equal((await run.outcome).identity.label, 'demo');
    assert.deepEqual(run.opened, [], 'the person asked for a code: no browser');
    closedAll(run);
  });

  it('a port forward that moves the path (code-server\'s /proxy/PORT/) and no device grant: the direct redirect is kept, the browser opens, and the paste box says why', async () => {
    const run = signIn({
      client: noDevice,
      environment: browserUi,
      asExternalUri: async (uri) => `https://code.example.test/proxy/${new URL(uri).port}/callback`,
    });
    const paste = await run.surfaces.open('paste');
    assert.match(paste.options.because, /VS Code cannot forward this sign-in's redirect to your browser's machine/);
    assert.equal(new URL(paste.options.entry.redirectUri).hostname, '127.0.0.1', 'the redirect URI the identity provider is told stays the direct one');
    assert.equal(run.opened.length, 1, 'the browser opens at the identity provider');
    const { callbackUrl } = await idp.authorize(paste.options.entry.authorizeUrl, { decision: 'approve', deliver: false });
    assert.deepEqual(await paste.options.entry.submit(callbackUrl), { status: 'finished' });
    assert.equal((await run.outcome).identity.label, 'demo');
    closedAll(run);
  });

  it('a port forward that fails: the direct redirect is kept and the sign-in completes through it', async () => {
    const run = signIn({
      client: full,
      environment: sshRemote,
      flow: 'loopback',
      asExternalUri: () => Promise.reject(new Error('no tunnel')),
      browser: async (url) => {
        meanwhile(idp.authorize(url, { decision: 'approve' }));
        return true;
      },
    });
    assert.equal((await run.outcome).identity.label, 'demo');
    assert.equal(new URL(run.opened[0]!).hostname, new URL(idp.issuer).hostname, 'without a check, the identity provider is opened directly');
    assert.match(new URL(run.opened[0]!).searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    closedAll(run);
  });

  it('no browser can be opened and no device grant: the paste box says so, and the pasted address signs in', async () => {
    const run = signIn({ client: noDevice, environment: desktop, browser: async () => false });
    const paste = await run.surfaces.open('paste');
    assert.match(paste.options.because, /No browser could be opened here\. Copy the sign-in address/);
    const { callbackUrl } = await idp.authorize(paste.options.entry.authorizeUrl, { decision: 'approve', deliver: false });
    assert.deepEqual(await paste.options.entry.submit(callbackUrl), { status: 'finished' });
    assert.equal((await run.outcome).identity.label, 'demo');
    closedAll(run);
  });

  it('no browser can be opened and the device grant is the fallback: the code, saying why', async () => {
    const run = signIn({ client: full, environment: desktop, browser: async () => false });
    const code = await run.surfaces.open('deviceCode');
    assert.match(code.switchedBecause ?? '', /No browser could be opened here: signing in with a code instead/);
    meanwhile(idp.approveDevice(code.prompt.userCode));
    assert.equal((await run.outcome).identity.label, 'demo');
    closedAll(run);
  });

  it('the browser never reaches /start: the sign-in switches to the code by itself and says why', async () => {
    const run = signIn({ client: full, environment: desktop, browserCheckSeconds: 0.2 });
    const code = await run.surfaces.open('deviceCode');
    assert.match(code.switchedBecause ?? '', /did not open VS Code's sign-in page within 0\.2 s, so it is probably on another device: signing in with a code instead/);
    meanwhile(idp.approveDevice(code.prompt.userCode));
    assert.equal((await run.outcome).identity.label, 'demo');
    closedAll(run);
  });

  it('the fixed loopback port is taken, and the device grant is the fallback: the code instead, saying why', async () => {
    const port = await takenPort();
    const run = signIn({ client: full, environment: desktop, loopbackPort: port });
    const code = await run.surfaces.open('deviceCode');
    assert.match(code.switchedBecause ?? '', new RegExp(`The browser sign-in cannot start here: Cannot listen on 127\\.0\\.0\\.1:${port}\\b.*Signing in with a code instead\\.`));
    meanwhile(idp.approveDevice(code.prompt.userCode));
    assert.equal((await run.outcome).identity.label, 'demo');
    assert.deepEqual(run.opened, [], 'no browser for a sign-in that could not listen');
    closedAll(run);
  });

  it('the fixed loopback port is taken with flow "loopback" (the person chose the browser): no code, the port\'s own error', async () => {
    const port = await takenPort();
    const run = signIn({ client: full, environment: desktop, flow: 'loopback', loopbackPort: port });
    const error = await failure(run.outcome);
    assert.equal(reasonOf(error), 'port_in_use', String(error));
    assert.ok(!run.surfaces.kinds().includes('deviceCode'), `no code shown: ${run.surfaces.kinds().join(', ')}`);
    closedAll(run);
  });

  it('the fixed loopback port is taken and the code the sign-in falls back to is refused: the port is named as the cause', async () => {
    const port = await takenPort();
    idp.injectFault('device_authorization', { kind: 'status', status: 400, body: JSON.stringify({ error: 'unauthorized_client' }), contentType: 'application/json' }, 1);
    try {
      const run = signIn({ client: full, environment: desktop, loopbackPort: port });
      const error = await failure(run.outcome);
      assert.equal(reasonOf(error), 'port_in_use', String(error));
      closedAll(run);
    } finally {
      idp.clearFaults();
    }
  });

  it('the fixed loopback port is taken and there is no device grant: the sign-in fails with port_in_use', async () => {
    const port = await takenPort();
    const run = signIn({ client: noDevice, environment: desktop, loopbackPort: port });
    const error = await failure(run.outcome);
    assert.equal(reasonOf(error), 'port_in_use', String(error));
    closedAll(run);
  });

  it('two browser sign-ins on one fixed port (two providers of one preset): the second signs in with a code, the first still completes in the browser', async () => {
    const port = await freePort();
    const first = signIn({ client: full, environment: desktop, loopbackPort: port, browserCheckSeconds: 60 });
    await first.surfaces.open('browserWait');
    const second = signIn({ client: full, environment: desktop, loopbackPort: port });
    const code = await second.surfaces.open('deviceCode');
    assert.match(code.switchedBecause ?? '', new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}\\b.*port is in use.*Signing in with a code instead\\.`));
    assert.deepEqual(second.opened, [], 'the second sign-in opened no browser');
    meanwhile(idp.approveDevice(code.prompt.userCode));
    assert.equal((await second.outcome).identity.label, 'demo');
    const [startUrl] = first.opened;
    assert.ok(startUrl, 'the first sign-in opened the browser');
    const authorizeUrl = await visitStart(startUrl);
    meanwhile(idp.authorize(authorizeUrl, { decision: 'approve' }));
    assert.equal((await first.outcome).identity.label, 'demo');
    closedAll(first);
    closedAll(second);
  });

  it('the one who asked goes away (a terminal tool stopped with Ctrl+C): the sign-in ends cancelled', async () => {
    const caller = new AbortController();
    const run = signIn({ client: full, environment: browserUi, request: { signal: caller.signal } });
    await run.surfaces.open('deviceCode');
    caller.abort();
    const error = await failure(run.outcome);
    assert.ok(isOAuthError(error, 'cancelled'), String(error));
    closedAll(run);
  });
});

/** Waits until the asynchronous `probe` holds; fails after `timeoutMs` (a deadline, not a measurement). */
async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function until(probe: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
