import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { realClock } from '../../src/oauth/clock.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithDeviceGrant, type DeviceCodePrompt } from '../../src/oauth/deviceGrant.js';
import { OAuthError } from '../../src/oauth/errors.js';
import type { Clock } from '../../src/oauth/types.js';
import { frozenClock, virtualClock } from '../support/clocks.js';
import { DEVICE_CODE_GRANT, startTestIdp, type TestIdp } from '../support/idp.js';
import { fastPolling } from '../support/deviceSessionManager.js';
import { captureLogger } from '../support/logs.js';
import { meanwhile } from '../support/meanwhile.js';

const logger = captureLogger();

const scopes = ['openid', 'profile', 'email', 'offline_access'];

describe('device sign-in (RFC 8628) against oidc-provider', () => {
  let idp: TestIdp;
  let client: OAuthClient;

  before(async () => {
    // An expired code answers expired_token for as long as the suite runs: oidc-provider's own
    // answer to an expired code, whatever the timing (a forgotten code would answer invalid_grant).
    idp = await startTestIdp({ deviceInterval: 0.05, retainExpiredDeviceCodes: true });
    client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger });
  });
  after(() => idp.close());
  beforeEach(() => {
    idp.settings.deviceInterval = 0.05;
    idp.settings.deviceCodeTtl = 600;
    idp.resetCounters();
  });

  const polls = () => idp.count('token', DEVICE_CODE_GRANT);

  it('hands the code to the prompt before polling and signs in once the user approves', async () => {
    let prompt: DeviceCodePrompt | undefined;
    let pollsAtPrompt = -1;
    const result = await signInWithDeviceGrant(client, {
      ...fastPolling,
      logger,
      scopes,
      onPrompt: (shown) => {
        prompt = shown;
        pollsAtPrompt = polls();
        meanwhile(idp.approveDevice(shown.userCode, { decision: 'approve' }));
      },
    });
    assert.equal(pollsAtPrompt, 0);
    assert.ok(prompt);
    assert.match(prompt.userCode, /\S{4,}/);
    assert.ok(prompt.verificationUri.startsWith(idp.issuer.replace(/\/$/, '')));
    assert.ok(prompt.verificationUriComplete?.includes('user_code='));
    assert.equal(prompt.issuer, new URL(idp.issuer).href);
    assert.equal(prompt.clientId, idp.clientId);
    assert.equal(result.identity.label, 'demo');
    assert.ok(result.tokens.refreshToken, 'offline_access yields a refresh token');
    assert.equal((await idp.userinfo(result.tokens.accessToken)).status, 200);
  });

  it('reports access_denied as "denied"', async () => {
    const error = await signInWithDeviceGrant(client, {
      ...fastPolling,
      logger,
      scopes,
      onPrompt: (shown) => meanwhile(idp.approveDevice(shown.userCode, { decision: 'deny' })),
    }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError);
    assert.equal(error.kind, 'denied');
  });

  it('adds 5 s to the interval on every slow_down and never polls early (injected time)', async () => {
    idp.settings.deviceInterval = 2;
    idp.injectSlowDown(2);
    const clock = virtualClock();
    let approve: (() => void) | undefined;
    const done = signInWithDeviceGrant(client, {
      logger,
      scopes,
      clock,
      onPrompt: (shown) => (approve = () => meanwhile(idp.approveDevice(shown.userCode, { decision: 'approve' }))),
    });
    // Approve only after both slow_downs were answered, so the sequence is fixed.
    while (idp.requests.filter((request) => request.injected === 'slow_down').length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    approve!();
    const result = await done;
    assert.equal(result.identity.label, 'demo');
    assert.deepEqual(clock.sleeps.slice(0, 3), [2_000, 7_000, 12_000]);
    assert.ok(clock.sleeps.slice(2).every((ms) => ms === 12_000), `after two slow_downs every wait is 12 s: ${clock.sleeps.join(',')}`);
    assert.equal(polls(), clock.sleeps.length, 'one poll per wait');
  });

  it('polls every 5 s when the IdP sends no interval', async () => {
    idp.settings.deviceInterval = null;
    const clock = virtualClock();
    const result = await signInWithDeviceGrant(client, {
      logger,
      scopes,
      clock,
      onPrompt: (shown) => meanwhile(idp.approveDevice(shown.userCode, { decision: 'approve' })),
    });
    assert.equal(result.identity.label, 'demo');
    assert.ok(clock.sleeps.length >= 1);
    assert.ok(clock.sleeps.every((ms) => ms === 5_000), clock.sleeps.join(','));
  });

  it('maps the IdP\'s expired_token to "expired"', async () => {
    idp.settings.deviceCodeTtl = 1;
    // Our clock stands still, so only the IdP can declare the code expired.
    const error = await signInWithDeviceGrant(client, { ...fastPolling, logger, scopes, clock: frozenClock(100), onPrompt: () => undefined }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError);
    assert.equal(error.kind, 'expired');
    assert.equal(error.details.oauthError, 'expired_token', 'the IdP\'s own answer, not the client\'s deadline');
    assert.ok(idp.requests.some((request) => request.grantType === DEVICE_CODE_GRANT && request.status === 400));
  });

  it('reads invalid_grant for a device code at or past its expires_in as "expired" (an IdP that forgets expired codes)', async () => {
    const forgetful = await startTestIdp({ deviceInterval: 1, deviceCodeTtl: 10 });
    try {
      const forgetfulClient = new OAuthClient({ issuer: forgetful.issuer, clientId: forgetful.clientId, scopes }, { logger });
      // The IdP forgot the code already: the poll at 10 s, which is when it expired by our clock too.
      forgetful.injectFault('token', { kind: 'status', status: 400, body: JSON.stringify({ error: 'authorization_pending' }) }, 9);
      forgetful.injectFault('token', { kind: 'status', status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'device code not found' }) });
      const clock = virtualClock();
      const error = await signInWithDeviceGrant(forgetfulClient, { logger, scopes, clock, onPrompt: () => undefined }).catch((caught: unknown) => caught);
      assert.ok(error instanceof OAuthError, String(error));
      assert.equal(error.reason, 'code_expired', error.message);
      assert.equal(clock.sleeps.length, 10);

      // The same answer well before expires_in is the IdP refusing the code.
      forgetful.injectFault('token', { kind: 'status', status: 400, body: JSON.stringify({ error: 'invalid_grant' }) });
      const early = await signInWithDeviceGrant(forgetfulClient, { logger, scopes, clock: virtualClock(), onPrompt: () => undefined }).catch((caught: unknown) => caught);
      assert.ok(early instanceof OAuthError, String(early));
      assert.equal(early.reason, 'grant_rejected');
    } finally {
      await forgetful.close();
    }
  });

  it('stops at expires_in by its own clock, without waiting past it', async () => {
    idp.settings.deviceInterval = 5;
    idp.settings.deviceCodeTtl = 22;
    const clock = virtualClock();
    const error = await signInWithDeviceGrant(client, { logger, scopes, clock, onPrompt: () => undefined }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError);
    assert.equal(error.kind, 'expired');
    assert.deepEqual(clock.sleeps, [5_000, 5_000, 5_000, 5_000], 'four polls fit in 22 s; a fifth would be after expiry');
  });

  it('stops polling at once on abort', async () => {
    const controller = new AbortController();
    // Real time; the abort comes while the client waits for its next poll (two polls answered), so
    // no poll is on its way to the IdP when it does.
    const abortWhileWaiting: Clock = {
      now: () => realClock.now(),
      sleep: (ms, signal) => {
        if (polls() >= 2) setImmediate(() => controller.abort());
        return realClock.sleep(ms, signal);
      },
    };
    const error = await signInWithDeviceGrant(client, { ...fastPolling, logger, scopes, clock: abortWhileWaiting, signal: controller.signal, onPrompt: () => undefined }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError);
    assert.equal(error.kind, 'cancelled');
    assert.equal(polls(), 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(polls(), 2, 'no poll after abort');
  });
});
