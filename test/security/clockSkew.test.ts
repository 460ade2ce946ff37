// Clock skew between the machine VS Code runs on and the identity provider must not make fresh
// tokens look expired: expiry is `expires_in` counted on our own clock from when the request was
// sent, never the IdP's timestamps.
//
// Two ways to skew, because what matters is the difference between the clocks:
//  1. In process: the extension's injected Clock runs 10 minutes ahead of / behind the IdP (which
//     shares this process's clock). This drives the session logic (expiry, refresh margin).
//  2. Out of process: the test IdP (test/support/idp-cli.ts) runs in a child process whose Date is
//     really 10 minutes ahead / behind (Date, Date.now and the HTTP Date header), so oauth4webapi's
//     ID token checks, which read this process's real clock, meet real skew too.
// Access tokens live 10 minutes here, so that expiry read from the IdP's clock (an `exp`) would
// make a token from an IdP 10 minutes behind look expired at once; expires_in does not.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SessionManager } from '../../src/auth/sessionManager.js';
import { identityOf, storedSessions } from '../support/storedSessions.js';
import { loadCallbackPages } from '../../src/oauth/callbackPages.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithDeviceGrant } from '../../src/oauth/deviceGrant.js';
import { OAuthError } from '../../src/oauth/errors.js';
import { signInWithLoopback } from '../../src/oauth/loopback.js';
import { Redactor } from '../../src/oauth/redact.js';
import type { Clock, SignInResult } from '../../src/oauth/types.js';
import { startTestIdp, type RequestRecord, type TestIdp } from '../support/idp.js';
import { fastPolling } from '../support/deviceSessionManager.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets } from '../support/memorySecretStorage.js';
import { recordOutput } from '../support/secretLedger.js';
import { meanwhile } from '../support/meanwhile.js';

const scopes = ['openid', 'profile', 'email', 'offline_access'];
const pages = loadCallbackPages(join(__dirname, '../../media'));
const skewMs = 10 * 60_000;
const accessTokenTtl = 600;
const root = join(__dirname, '../..');

function skewedClock(offsetMs: number): Clock {
  return {
    now: () => Date.now() + offsetMs,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

interface StoredDocument {
  sessions: { tokens: { expiresAt: number; obtainedAt: number } }[];
}

/** A session manager (one window) over memory storage, with the given clock and sign-in. */
function window(client: OAuthClient, clock: Clock | undefined, signIn: (requestScopes: string[]) => Promise<SignInResult>) {
  const logs: string[] = [];
  const shared = createSharedSecrets();
  const manager = new SessionManager({
    providerId: 'oauth-anywhere',
    client,
    configuredScopes: scopes,
    secrets: shared.window(),
    signIn: (request) => signIn(request.scopes),
    logger: captureLogger(logs),
    redactor: new Redactor(),
    ...(clock ? { clock } : {}),
  });
  const stored = () => ({ sessions: storedSessions(shared.backing, identityOf(client.issuer, client.clientId)) }) as StoredDocument;
  return { manager, logs, stored };
}

describe("the extension's clock 10 minutes off the IdP's (injected clock, in process)", () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02, accessTokenTtl });
  });
  after(() => idp.close());

  for (const [direction, offset] of [['ahead of', skewMs], ['behind', -skewMs]] as const) {
    for (const flow of ['device', 'loopback'] as const) {
      it(`${flow} sign-in with our clock ${direction} the IdP: the token is fresh, served without a refresh`, async () => {
        const clock = skewedClock(offset);
        const logger = captureLogger();
        const client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger, clock });
        const { manager, stored } = window(client, clock, (requestScopes) =>
          flow === 'device'
            ? signInWithDeviceGrant(client, { ...fastPolling, logger, clock, scopes: requestScopes, onPrompt: (prompt) => meanwhile(idp.approveDevice(prompt.userCode)) })
            : signInWithLoopback(client, { logger, scopes: requestScopes, pages, openBrowser: async (url) => (meanwhile(idp.authorize(url)), true) }),
        );
        const session = await manager.createSession([]);
        idp.resetCounters();

        const tokens = stored().sessions[0]!.tokens;
        assert.equal(tokens.expiresAt - tokens.obtainedAt, accessTokenTtl * 1000, 'expiry is expires_in from receipt');
        assert.ok(Math.abs(tokens.obtainedAt - clock.now()) < 60_000, 'stamped with our clock');
        // The skew is really there: the IdP stamped the ID token 10 minutes off our receipt time.
        const iat = Number(claimsOf(session.idToken!).iat) * 1000;
        assert.ok(Math.abs(tokens.obtainedAt - iat - offset) < 60_000, `our clock is ${direction} the IdP's by the skew`);

        const served = await manager.getSessions(['openid']);
        assert.deepEqual(served.map((candidate) => candidate.accessToken), [session.accessToken]);
        assert.equal(idp.count('refresh'), 0, 'no refresh request');
        assert.equal((await idp.userinfo(session.accessToken)).status, 200, 'and the token does work');
        manager.dispose();
      });
    }
  }
});

/** The test IdP in a child process whose clock is `offsetMs` off this one's. */
async function startSkewedIdp(offsetMs: number, idTokenTtl: number): Promise<{ issuer: string; clientId: string; control: string; child: ChildProcess }> {
  // Date, Date.now and the HTTP Date header of every answer: everything in that process tells the
  // skewed time, as on a machine whose clock is off.
  const preload = `
    import http from 'node:http';
    const offset = Number(process.env.TEST_IDP_CLOCK_OFFSET_MS);
    const RealDate = Date;
    const skewedNow = () => RealDate.now() + offset;
    globalThis.Date = new Proxy(RealDate, {
      construct: (target, args, newTarget) => Reflect.construct(target, args.length ? args : [skewedNow()], newTarget),
      apply: () => new RealDate(skewedNow()).toString(),
      get: (target, property, receiver) => (property === 'now' ? skewedNow : Reflect.get(target, property, receiver)),
    });
    const writeHead = http.ServerResponse.prototype.writeHead;
    http.ServerResponse.prototype.writeHead = function (...args) {
      if (!this.headersSent) this.setHeader('date', new RealDate(skewedNow()).toUTCString());
      return writeHead.apply(this, args);
    };
  `;
  const child = spawn(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, '--import', 'tsx', 'test/support/idp-cli.ts',
      '--host', '127.0.0.1', '--port', '0', '--device-interval', '0.02', '--access-token-ttl', String(accessTokenTtl), '--id-token-ttl', String(idTokenTtl)],
    { cwd: root, env: { ...process.env, TEST_IDP_CLOCK_OFFSET_MS: String(offsetMs) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`the skewed IdP exited (${code}): ${stderr}`)));
  });
  return { ...(JSON.parse(line) as { issuer: string; clientId: string; control: string }), child };
}

describe("the IdP's clock 10 minutes off (IdP in its own process with a skewed clock)", () => {
  for (const [direction, offset] of [['ahead', skewMs], ['behind', -skewMs]] as const) {
    it(`IdP ${direction}: sign-in validates the ID token, and the session is served without a refresh`, { timeout: 60_000 }, async () => {
      const idp = await startSkewedIdp(offset, 3600);
      try {
        const control = (command: string, body?: unknown) =>
          fetch(new URL(command, idp.control), body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((response) => response.json() as Promise<Record<string, unknown>>);
        const logger = captureLogger();
        const client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger });
        const { manager, stored } = window(client, undefined, (requestScopes) =>
          signInWithDeviceGrant(client, { ...fastPolling, logger, scopes: requestScopes, onPrompt: (prompt) => meanwhile(control('device', { userCode: prompt.userCode })) }),
        );
        const session = await manager.createSession([]);

        // The IdP really lives in another time: its ID token says so.
        const iat = Number(claimsOf(session.idToken!).iat) * 1000;
        assert.ok(Math.abs(iat - (Date.now() + offset)) < 60_000, `the IdP's clock is ${direction} by the skew (iat ${new Date(iat).toISOString()})`);
        const tokens = stored().sessions[0]!.tokens;
        assert.equal(tokens.expiresAt - tokens.obtainedAt, accessTokenTtl * 1000);

        await control('reset', {});
        const served = await manager.getSessions(['openid']);
        assert.deepEqual(served.map((candidate) => candidate.id), [session.id]);
        const { requests } = (await control('requests')) as { requests: RequestRecord[] };
        assert.equal(requests.filter((request) => request.grantType === 'refresh_token').length, 0, 'no refresh request');
        manager.dispose();
      } finally {
        idp.child.kill('SIGTERM');
      }
    });
  }

  // Found by this suite: oauth4webapi checks the ID token's exp against this machine's clock with
  // 30 s of tolerance and no skew correction (the client passes no [oauth.clockSkew]). An IdP whose
  // clock is 10 minutes behind and whose ID tokens live 5 minutes (Keycloak's default lifespan)
  // yields ID tokens that are already expired here, and sign-in fails. Expected behaviour: the
  // skew is learnt (e.g. from the token response's Date header) and the sign-in succeeds.
  it('IdP 10 minutes behind with 5-minute ID tokens: sign-in still succeeds', { timeout: 60_000 }, async () => {
    const idp = await startSkewedIdp(-skewMs, 300);
    try {
      const control = (command: string, body: unknown) =>
        fetch(new URL(command, idp.control), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const logger = captureLogger();
      const client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger });
      const outcome = await signInWithDeviceGrant(client, { ...fastPolling, logger, scopes, onPrompt: (prompt) => meanwhile(control('device', { userCode: prompt.userCode })) }).catch((caught: unknown) => caught);
      if (outcome instanceof OAuthError) recordOutput('clockSkew short ID token', outcome.message);
      assert.ok(!(outcome instanceof Error), `sign-in failed: ${String(outcome)}`);
    } finally {
      idp.child.kill('SIGTERM');
    }
  });
});
