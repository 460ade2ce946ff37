// RFC 8628 section 3.5 (device access token response, polling) clause by clause, against the real
// test IdP with injected time: the virtual clock advances only when the client sleeps and records
// every sleep and the virtual time each one ended (= the time of the next poll). The IdP's request
// records say what each poll was answered. Together they prove "never a poll earlier than the
// interval in force" without waiting for a single real interval.
//
// test/integration/deviceSignIn.test.ts covers the basics (approve, deny, two slow_downs, no interval,
// the IdP's expiry, the client's own deadline, abort). This suite adds the interval-in-force check
// over a mixed sequence of answers, transient failures (503, timeout, reset) that back off while
// the sign-in survives, a persistent outage that ends, and abort while a poll is in flight.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { OAuthClient } from '../../src/oauth/client.js';
import { defaultIntervalSeconds, signInWithDeviceGrant } from '../../src/oauth/deviceGrant.js';
import { maxBackoffMs } from '../../src/oauth/pollSchedule.js';
import { OAuthError } from '../../src/oauth/errors.js';
import { abortReason } from '../../src/oauth/clock.js';
import { gatedClock, virtualClock } from '../support/clocks.js';
import { DEVICE_CODE_GRANT, startTestIdp, type Fault, type RequestRecord, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { recordOutput } from '../support/secretLedger.js';

const logger = captureLogger();
const scopes = ['openid', 'profile', 'email', 'offline_access'];
/**
 * Short, so an unanswered poll is a timeout soon (polling time itself is virtual); long enough for
 * the IdP's real answers on a machine whose cores are all busy.
 */
const requestTimeoutMs = 2_000;

/** When the next poll may come: the interval in force, and the wait before the next poll (longer while backing off). */
interface Schedule {
  intervalMs: number;
  waitMs: number;
}

/** An answer the IdP gives a poll instead of its own, with what RFC 8628 3.5 makes of it. */
interface Scripted {
  fault: Fault;
  /** The schedule after this answer, from the one before. */
  next(schedule: Schedule): Schedule;
}

const pending: Scripted = { fault: { kind: 'status', status: 400, body: JSON.stringify({ error: 'authorization_pending' }) }, next: ({ intervalMs }) => ({ intervalMs, waitMs: intervalMs }) };
// "the interval MUST be increased by 5 seconds for this and all subsequent requests"
const slowDown: Scripted = { fault: { kind: 'status', status: 400, body: JSON.stringify({ error: 'slow_down' }) }, next: ({ intervalMs }) => ({ intervalMs: intervalMs + 5_000, waitMs: intervalMs + 5_000 }) };
// Unavailable with Retry-After: that long (never shorter than the interval, at most a minute), once.
const unavailable: Scripted = { fault: { kind: 'status', status: 503, headers: { 'retry-after': '30' }, contentType: 'text/plain', body: 'busy' }, next: ({ intervalMs }) => ({ intervalMs, waitMs: Math.max(intervalMs, 30_000) }) };
// Connection trouble without Retry-After: twice the last wait (RFC 8628 3.5, last paragraph), at most a minute.
const backOff = ({ intervalMs, waitMs }: Schedule): Schedule => ({ intervalMs, waitMs: Math.min(Math.max(waitMs * 2, intervalMs), maxBackoffMs) });
const noAnswer: Scripted = { fault: { kind: 'delay', ms: 60_000 }, next: backOff };
const reset: Scripted = { fault: { kind: 'reset' }, next: backOff };

/** Bounded wait for a condition on the IdP's state (polls happen on the event loop, not in time). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 2_000; turn++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never happened: ${what}`);
}

describe('RFC 8628 3.5: polling the token endpoint (injected time, real oidc-provider)', () => {
  let idp: TestIdp;
  let client: OAuthClient;

  before(async () => {
    idp = await startTestIdp();
  });
  after(() => idp.close());
  beforeEach(() => {
    idp.clearFaults();
    idp.resetCounters();
    idp.settings.deviceInterval = 5;
    idp.settings.deviceCodeTtl = 1_800;
    client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger, limits: { timeoutMs: requestTimeoutMs, maxBodyBytes: 1024 * 1024 } });
  });

  const polls = (): RequestRecord[] => idp.requests.filter((request) => request.grantType === DEVICE_CODE_GRANT);

  /** A virtual clock whose sleeps wait until the user approved, so scripted answers come first. */
  function approvalGatedClock(start: number) {
    const clock = virtualClock(start);
    const { gated, gateOn } = gatedClock(clock);
    return { clock, gated, approveNow: (userCode: string) => gateOn(idp.approveDevice(userCode)) };
  }


  /**
   * Each poll's gap (virtual time since the previous poll, or since the code was issued) against the
   * wait in force when it was sent, derived from the answers the IdP gave: never shorter.
   */
  function assertWaitsInForce(clock: ReturnType<typeof virtualClock>, start: number, initialMs: number, script: readonly Scripted[]): number[] {
    const records = polls();
    assert.equal(records.length, clock.at.length, 'one poll after every sleep');
    let schedule: Schedule = { intervalMs: initialMs, waitMs: initialMs };
    const expected: number[] = [];
    for (const [index, record] of records.entries()) {
      const gap = clock.at[index]! - (index === 0 ? start : clock.at[index - 1]!);
      expected.push(schedule.waitMs);
      assert.ok(gap >= schedule.waitMs, `poll ${index + 1} came ${gap} ms after the previous, but the wait in force was ${schedule.waitMs} ms`);
      assert.ok(gap >= schedule.intervalMs, `poll ${index + 1} came before the interval in force`);
      const scripted = script[index];
      if (scripted) {
        assert.equal(record.injected, scripted.fault.kind, `poll ${index + 1} got the scripted answer`);
        schedule = scripted.next(schedule);
      } else {
        assert.equal(record.injected, undefined, `poll ${index + 1} was answered by the IdP itself`);
        // The IdP's own answers here are authorization_pending (400) or the tokens (200).
        assert.ok(record.status === 400 || record.status === 200, `poll ${index + 1}: status ${record.status}`);
        schedule = pending.next(schedule);
      }
    }
    return expected;
  }

  it('never polls earlier than the interval in force across pending, slow_down and transient failures', { timeout: 30_000 }, async () => {
    // No interval in the device authorization response: 5 s (RFC 8628 3.2).
    idp.settings.deviceInterval = null;
    const script = [pending, pending, slowDown, pending, unavailable, pending, slowDown, noAnswer, pending, reset, slowDown, pending];
    for (const step of script) idp.injectFault('token', step.fault);
    const start = 1_000_000;
    const { clock, gated, approveNow } = approvalGatedClock(start);
    const result = await signInWithDeviceGrant(client, { logger, scopes, clock: gated, onPrompt: (prompt) => void approveNow(prompt.userCode) });

    assert.equal(result.identity.subject, 'demo-user', 'the sign-in survived every transient failure');
    assert.equal(polls().length, script.length + 1, 'every scripted answer, then the tokens');
    assert.equal(polls().at(-1)!.status, 200);
    const expected = assertWaitsInForce(clock, start, defaultIntervalSeconds * 1000, script);
    // The schedule itself: +5 s per slow_down for good; Retry-After, or twice the last wait, only until the next real answer.
    assert.deepEqual(expected, [5_000, 5_000, 5_000, 10_000, 10_000, 30_000, 10_000, 15_000, 30_000, 15_000, 30_000, 20_000, 20_000]);
    assert.deepEqual(clock.sleeps, expected, 'and no longer than needed either');
  });

  it('keeps polling at the interval while the IdP answers authorization_pending', { timeout: 30_000 }, async () => {
    idp.settings.deviceInterval = 3;
    const start = 2_000_000;
    const clock = virtualClock(start);
    let userCode = '';
    const signIn = signInWithDeviceGrant(client, { logger, scopes, clock, onPrompt: (prompt) => void (userCode = prompt.userCode) });
    // The IdP's own authorization_pending, four times, before the user approves.
    await until(() => polls().filter((record) => record.status === 400).length >= 4, 'four authorization_pending answers');
    await idp.approveDevice(userCode);
    const result = await signIn;
    assert.equal(result.identity.label, 'demo');
    assertWaitsInForce(clock, start, 3_000, []);
    assert.ok(clock.sleeps.length >= 5);
    assert.ok(clock.sleeps.every((ms) => ms === 3_000), `every wait is the interval: ${clock.sleeps.join(',')}`);
  });

  it('access_denied ends the sign-in as "denied"; the denied poll is the last', { timeout: 30_000 }, async () => {
    idp.settings.deviceInterval = 1;
    const clock = virtualClock();
    let userCode = '';
    const signIn = signInWithDeviceGrant(client, { logger, scopes, clock, onPrompt: (prompt) => void (userCode = prompt.userCode) });
    await until(() => polls().length >= 2, 'two polls');
    await idp.approveDevice(userCode, { decision: 'deny' });
    const error = await signIn.catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError, String(error));
    recordOutput('deviceGrantRfc denied', error.message);
    assert.equal(error.kind, 'denied');
    assert.equal(error.details.oauthError, 'access_denied');
    assert.equal(polls().length, clock.sleeps.length, 'no poll after the denial');
    assert.equal(polls().at(-1)!.status, 400);
  });

  it('expired_token from the IdP ends the sign-in as "expired", though the client\'s own deadline is far', { timeout: 30_000 }, async () => {
    idp.settings.deviceInterval = 1;
    idp.injectFault('token', pending.fault);
    idp.injectFault('token', { kind: 'status', status: 400, body: JSON.stringify({ error: 'expired_token', error_description: 'device code expired' }) });
    const clock = virtualClock();
    const error = await signInWithDeviceGrant(client, { logger, scopes, clock, onPrompt: () => undefined }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError, String(error));
    recordOutput('deviceGrantRfc expired', error.message);
    assert.equal(error.kind, 'expired');
    assert.deepEqual(clock.sleeps, [1_000, 1_000], 'exactly the two scripted polls');
    assert.equal(polls().length, 2);
  });

  it('a persistent outage: polls back off (Retry-After honoured, at most a minute) until the code expires, then the IdP\'s error', { timeout: 30_000 }, async () => {
    idp.settings.deviceInterval = 1;
    idp.settings.deviceCodeTtl = 300;
    idp.injectFault('token', unavailable.fault, 4);
    idp.injectFault('token', { kind: 'status', status: 503, headers: { 'retry-after': '3600' }, contentType: 'text/plain', body: 'busy' }, 50);
    const clock = virtualClock();
    const error = await signInWithDeviceGrant(client, { logger, scopes, clock, onPrompt: () => undefined }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError, String(error));
    recordOutput('deviceGrantRfc outage', error.message);
    assert.equal(error.reason, 'idp_unavailable');
    assert.equal(error.details.status, 503);
    assert.match(error.message, /until the sign-in code expired after 300 s/);
    // 1 s, then 30 s four times (Retry-After: 30), then the minute a Retry-After of an hour is capped at.
    assert.deepEqual(clock.sleeps, [1_000, 30_000, 30_000, 30_000, 30_000, 60_000, 60_000]);
    assert.equal(polls().length, clock.sleeps.length);
  });

  it('abort between polls: "cancelled", and no poll after it', { timeout: 30_000 }, async () => {
    idp.settings.deviceInterval = 1;
    const controller = new AbortController();
    const clock = virtualClock();
    // The fourth wait lasts until the abort: the abort surely falls between two polls, not into one.
    let waiting!: () => void;
    const fourthWait = new Promise<void>((resolve) => (waiting = resolve));
    const paused: typeof clock = {
      ...clock,
      sleep: async (ms, signal) => {
        if (clock.sleeps.length === 3) {
          waiting();
          await new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(abortReason(signal)), { once: true }));
        }
        return clock.sleep(ms, signal);
      },
    };
    const signIn = signInWithDeviceGrant(client, { logger, scopes, clock: paused, signal: controller.signal, onPrompt: () => undefined });
    await fourthWait;
    await until(() => polls().filter((record) => record.status !== undefined).length === 3, 'three answered polls');
    controller.abort();
    const error = await signIn.catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError && error.kind === 'cancelled', String(error));
    // Let anything still scheduled run: one more round trip to the IdP and a few turns of the loop.
    await fetch(new URL('/.well-known/openid-configuration', idp.issuer));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(polls().length, 3, 'no poll after abort');
    assert.equal(clock.sleeps.length, 3, 'no wait after abort');
  });

  it('abort while a poll is in flight: "cancelled" at once, not a timeout, and no poll after it', { timeout: 30_000 }, async () => {
    idp.settings.deviceInterval = 1;
    // This client would wait 30 s for the answer; only the abort can end the poll early.
    const patient = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger });
    idp.injectFault('token', { kind: 'delay', ms: 60_000 });
    const controller = new AbortController();
    const clock = virtualClock();
    const signIn = signInWithDeviceGrant(patient, { logger, scopes, clock, signal: controller.signal, onPrompt: () => undefined });
    await until(() => polls().some((record) => record.injected === 'delay'), 'a poll held by the IdP');
    controller.abort();
    const error = await signIn.catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError, String(error));
    assert.equal(error.kind, 'cancelled');
    assert.equal(polls().length, 1);
    assert.equal(clock.sleeps.length, 1);
  });
});
