// Whatever the identity provider sends. The real test IdP (oidc-provider) with its answers altered by
// faults: link syntax, HTML and control characters in every text field it sends; URLs that are not
// https; intervals that are tiny, absent or strings; 429, 502, 503 and 504 with and without
// Retry-After and with and without an OAuth error body; a token answer that arrives after the client
// gave up; a loopback redirect URI the IdP refuses; ID tokens without a name and userinfo that fails;
// plain OAuth 2.0 without `openid`. Texts are checked as VS Code renders them: a notification turns
// `[label](command:…)` into a link that runs the command, and nothing else.
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadCallbackPages } from '../../src/oauth/callbackPages.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithDeviceGrant, type DeviceCodePrompt } from '../../src/oauth/deviceGrant.js';
import { OAuthError, reasonOf, type FailureReason } from '../../src/oauth/errors.js';
import { signInWithLoopback } from '../../src/oauth/loopback.js';
import type { Logger, SignInResult } from '../../src/oauth/types.js';
import { signInFailureMessage } from '../../src/vscode/errorMessages.js';
import { commandUri, deviceCodeMessage, redirectHint } from '../../src/vscode/promptTexts.js';
import { gatedClock, virtualClock } from '../support/clocks.js';
import { DEMO_ACCOUNT, DEVICE_CODE_GRANT, REDIRECT_REFUSING_CLIENT_ID, startTestIdp, type Fault, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { assertPlainNotification, format, invisibleCharacters, notificationLinks } from '../support/renderedText.js';
import { deviceSessionManager } from '../support/deviceSessionManager.js';
import { createSharedSecrets } from '../support/memorySecretStorage.js';
import { findLeaks, recordOutput } from '../support/secretLedger.js';
import { meanwhile } from '../support/meanwhile.js';

const scopes = ['openid', 'profile', 'email', 'offline_access'];
const pages = loadCallbackPages(join(__dirname, '../../media'));
/**
 * Short, so that an answer held back by the IdP is a timeout within the test; long enough for the
 * IdP's real answers on a machine whose cores are all busy.
 */
const requestTimeoutMs = 1_000;

/** Everything a hostile text can carry: a command link, HTML, markdown, an escape sequence, control and direction characters. */
const hostile = '[Open settings](command:workbench.action.openSettings?%5B%22oauthAnywhere%22%5D) <img src=x onerror=alert(1)> **bold** \u001b[31mred\u0007 \u202eesrever\u200b';
const ownLinks = { copy: commandUri('oauthAnywhere.copyCodeAndOpenBrowser', '1'), qr: commandUri('oauthAnywhere.showQrCode', '1') };

interface DeviceOutcome {
  result?: SignInResult;
  error?: unknown;
  prompt?: DeviceCodePrompt;
  clock: ReturnType<typeof virtualClock>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Fault => ({ kind: 'status', status, headers, body: JSON.stringify(body) });
const text = (status: number, headers: Record<string, string> = {}): Fault => ({ kind: 'status', status, headers, contentType: 'text/html', body: `<html><body><h1>${status}</h1></body></html>` });

describe('a hostile identity provider (real oidc-provider, altered answers)', () => {
  let idp: TestIdp;
  let logs: ReturnType<typeof captureLogger>;

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 2 });
  });
  after(() => idp.close());
  beforeEach(() => {
    idp.clearFaults();
    idp.resetCounters();
    idp.settings.deviceInterval = 2;
    idp.settings.deviceCodeTtl = 600;
    Object.assign(idp.account, DEMO_ACCOUNT);
    logs = captureLogger();
  });

  const clientFor = (options: { clientId?: string; timeoutMs?: number; logger?: Logger } = {}) =>
    new OAuthClient({ issuer: idp.issuer, clientId: options.clientId ?? idp.clientId, scopes }, { logger: options.logger ?? logs, limits: { timeoutMs: options.timeoutMs ?? 5_000, maxBodyBytes: 1024 * 1024 } });
  const polls = () => idp.requests.filter((request) => request.grantType === DEVICE_CODE_GRANT);
  const debugLine = (pattern: RegExp) => logs.lines.some((line) => line.startsWith('debug ') && pattern.test(line));

  /**
   * A device sign-in in virtual time whose user approves before the first poll, so the scripted
   * answers come in order. `approve: false`: nobody approves; `promptOnly`: it stops once the code is shown.
   */
  async function approvedDeviceSignIn(client = clientFor(), options: { approve?: boolean; promptOnly?: boolean; requested?: readonly string[] } = {}): Promise<DeviceOutcome> {
    const clock = virtualClock();
    const { gated, gateOn } = gatedClock(clock);
    const stop = new AbortController();
    let prompt: DeviceCodePrompt | undefined;
    const outcome = await signInWithDeviceGrant(client, {
      logger: logs,
      scopes: options.requested ?? scopes,
      clock: gated,
      signal: stop.signal,
      onPrompt: (shown) => {
        prompt = shown;
        if (options.promptOnly) stop.abort();
        else if (options.approve !== false) gateOn(idp.approveDevice(shown.userCode).catch(() => undefined));
      },
    }).then(
      (result): { result?: SignInResult; error?: unknown } => ({ result }),
      (error: unknown) => ({ error }),
    );
    return { ...outcome, prompt, clock };
  }

  /** The error, as the notification a person would see: plain text, one reason, no sentence twice. */
  function assertReported(error: unknown, reason: FailureReason, label: string): OAuthError {
    assert.ok(error instanceof OAuthError, `${label}: ${String(error)}`);
    assert.equal(reasonOf(error), reason, `${label}: ${error.message}`);
    const notification = signInFailureMessage(reason, error.message, format)!;
    recordOutput(`hostileIdp ${label}`, notification.message);
    assertPlainNotification(notification.message, label);
    assert.deepEqual(findLeaks(notification.message, idp.issued), [], `${label}: no secret`);
    return error;
  }

  describe('text from the identity provider is shown as text', () => {
    it('a user_code with a command link, HTML and control characters: plain text in the notification, verbatim on the clipboard, with a warning', async () => {
      idp.injectFault('device_authorization', { kind: 'edit_answer', set: { user_code: hostile } });
      const { prompt } = await approvedDeviceSignIn(clientFor(), { promptOnly: true });
      assert.ok(prompt, 'the code was shown');
      assert.equal(prompt.userCode, hostile, 'Copy code copies exactly what the identity provider sent');
      assert.equal(prompt.unusualUserCode, true);
      const message = deviceCodeMessage(prompt, ownLinks, format);
      assertPlainNotification(message, 'device code notification');
      assert.deepEqual(notificationLinks(message), [ownLinks.copy, ownLinks.qr], 'the extension\'s two links, and only those');
      assert.ok(message.includes('[Open settings]\u200b(command:workbench.action.openSettings'), `the code is there to read, as sent: ${message}`);
      assert.match(message, /characters that sign-in codes do not have/);
      assert.ok(logs.lines.some((line) => line.startsWith('warn ') && /user code with characters codes do not have/.test(line)));
    });

    it('a user_code people type is shown exactly as sent, without a warning', async () => {
      idp.injectFault('device_authorization', { kind: 'edit_answer', set: { user_code: 'WDJB-MJHT' } });
      const { prompt } = await approvedDeviceSignIn(clientFor(), { promptOnly: true });
      assert.ok(prompt);
      assert.equal(prompt.unusualUserCode, undefined);
      const message = deviceCodeMessage(prompt, ownLinks, format);
      assert.match(message, /^Enter code WDJB-MJHT at http:\/\/127\.0\.0\.1:\d+\/device — \[Copy code and open browser\]\(command:oauthAnywhere\.copyCodeAndOpenBrowser\?/);
      assert.doesNotMatch(message, /do not have/);
    });

    it('error and error_description while polling, at the device endpoint and in the browser\'s redirect: plain text', async () => {
      const cases: Array<[string, Fault, 'device_authorization' | 'token', FailureReason]> = [
        ['access_denied with a hostile description', json(400, { error: 'access_denied', error_description: hostile }), 'token', 'denied'],
        ['a hostile error code', json(400, { error: hostile }), 'token', 'idp_failed'],
        ['invalid_client at the device endpoint', json(401, { error: 'invalid_client', error_description: hostile }), 'device_authorization', 'client_rejected'],
      ];
      for (const [label, fault, endpoint, reason] of cases) {
        idp.clearFaults();
        idp.injectFault(endpoint, fault);
        const { error } = await approvedDeviceSignIn(clientFor(), { approve: false });
        const reported = assertReported(error, reason, label);
        assert.deepEqual(notificationLinks(reported.message), [], `${label}: the core's message has no link syntax of the IdP's`);
        assert.doesNotMatch(reported.message, invisibleCharacters, label);
      }

      // The browser's redirect with an error from the identity provider: the page escapes it, the error is plain.
      const client = clientFor();
      let page = '';
      const error = await signInWithLoopback(client, {
        logger: logs,
        scopes,
        pages,
        timeoutMs: 10_000,
        openBrowser: async (url) => {
          const authorize = new URL(url);
          const callback = new URL(authorize.searchParams.get('redirect_uri')!);
          callback.search = new URLSearchParams({ error: 'access_denied', error_description: hostile, state: authorize.searchParams.get('state')!, iss: idp.issuer }).toString();
          meanwhile(fetch(callback).then(async (response) => (page = await response.text())));
          return true;
        },
      }).catch((caught: unknown) => caught);
      assertReported(error, 'denied', 'the redirect\'s error_description');
      for (let turn = 0; turn < 100 && !page; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(page.includes('&#60;img src=x'), 'the page shows the markup as text');
      assert.ok(!page.includes('<img src=x'), 'and never as markup');
    });

    it('an account name (preferred_username) with link syntax, HTML and control characters: plain text in the session and on the page', async () => {
      idp.account.preferred_username = hostile;
      const { result } = await approvedDeviceSignIn();
      assert.ok(result, 'signed in');
      assert.deepEqual(notificationLinks(`Signed in as ${result.identity.label}.`), []);
      assert.doesNotMatch(result.identity.label, invisibleCharacters);
      assert.ok(result.identity.label.startsWith('[Open settings]\u200b(command:workbench'), result.identity.label);
      assert.equal(result.identity.subject, DEMO_ACCOUNT.sub, 'the subject stays exact');

      let page = '';
      await signInWithLoopback(clientFor(), {
        logger: logs,
        scopes,
        pages,
        timeoutMs: 10_000,
        openBrowser: async (url) => (meanwhile(idp.authorize(url).then((answer) => (page = answer.body ?? ''))), true),
      });
      for (let turn = 0; turn < 100 && !page; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(page.includes('&#60;img src=x') && !page.includes('<img src=x'), 'the success page shows the name as text');
    });

    it('a verification_uri with link syntax in its path: an http(s) address, shown as text', async () => {
      idp.injectFault('device_authorization', { kind: 'edit_answer', set: { verification_uri: `${new URL('/device', idp.issuer).href}](command:workbench.action.openSettings)` } });
      const { prompt } = await approvedDeviceSignIn(clientFor(), { promptOnly: true });
      assert.ok(prompt);
      const message = deviceCodeMessage(prompt, ownLinks, format);
      assertPlainNotification(message, 'verification_uri with link syntax');
      assert.deepEqual(notificationLinks(message), [ownLinks.copy, ownLinks.qr]);
    });
  });

  describe('URLs the extension would open', () => {
    for (const [label, value] of [
      ['javascript:', 'javascript:alert(document.cookie)'],
      ['command:', 'command:workbench.action.openSettings'],
      ['file:', 'file:///etc/passwd'],
      ['plain http to another machine', 'http://idp.example.test/device'],
    ] as const) {
      it(`a verification_uri that is ${label}: refused before anything shows it`, async () => {
        idp.injectFault('device_authorization', { kind: 'edit_answer', set: { verification_uri: value } });
        let shown = false;
        const error = await signInWithDeviceGrant(clientFor(), { logger: logs, scopes, clock: virtualClock(), onPrompt: () => (shown = true) }).catch((caught: unknown) => caught);
        assert.equal(shown, false, 'no prompt');
        assertReported(error, 'unsafe_url', `verification_uri ${label}`);
        assert.equal(polls().length, 0, 'no poll');
      });
    }

    it('a verification_uri_complete that is not https: left out with a warning, the code is still offered', async () => {
      idp.injectFault('device_authorization', { kind: 'edit_answer', set: { verification_uri_complete: 'javascript:alert(1)' } });
      const { result, prompt } = await approvedDeviceSignIn();
      assert.ok(result && prompt);
      assert.equal(prompt.verificationUriComplete, undefined);
      assert.ok(logs.lines.some((line) => line.startsWith('warn ') && /verification_uri_complete is javascript:, not https/.test(line)));
    });

    it('an end_session_endpoint over plain http to another machine is refused (it would carry the ID token in clear); https is used', async () => {
      idp.injectFault('discovery', { kind: 'edit_answer', set: { end_session_endpoint: 'http://idp.example.test/logout' } });
      const error = await clientFor().endSessionUrl('id-token').catch((caught: unknown) => caught);
      assertReported(error, 'unsafe_url', 'end_session_endpoint over http');
      idp.injectFault('discovery', { kind: 'edit_answer', set: { end_session_endpoint: 'https://idp.example.test/logout' } });
      const url = await clientFor().endSessionUrl(undefined);
      assert.equal(url?.origin, 'https://idp.example.test');
    });

    it('discovery answered with a redirect: the issuer URL is named as the likely cause, not the identity provider', async () => {
      idp.injectFault('discovery', { kind: 'status', status: 301, headers: { location: `${idp.issuer}/realms/x/.well-known/openid-configuration?q=1` }, body: '' });
      const error = await clientFor().metadata().catch((caught: unknown) => caught);
      const reported = assertReported(error, 'redirected', 'discovery redirected');
      assert.match(reported.message, /HTTP 301, a redirect to http:\/\/127\.0\.0\.1:\d+\/realms\/x\/\.well-known\/openid-configuration/);
      assert.doesNotMatch(reported.message, /q=1/, 'no query of the IdP\'s address');
      assert.match(signInFailureMessage('redirected', reported.message, format)!.message, /issuer URL/);
    });

    it('an authorization_endpoint that is not https is refused with the metadata', async () => {
      idp.injectFault('discovery', { kind: 'edit_answer', set: { authorization_endpoint: 'http://idp.example.test/auth' } });
      const error = await clientFor().metadata().catch((caught: unknown) => caught);
      assertReported(error, 'unsafe_url', 'authorization_endpoint over http');
    });
  });

  describe('polling: intervals and answers an identity provider should not send', () => {
    it('an interval of 0.01 s: never more than one poll a second', async () => {
      idp.settings.deviceInterval = 0.01;
      idp.injectFault('token', json(400, { error: 'authorization_pending' }), 3);
      const { result, clock } = await approvedDeviceSignIn();
      assert.ok(result);
      assert.deepEqual(clock.sleeps, [1_000, 1_000, 1_000, 1_000]);
      assert.ok(debugLine(/asked for a poll every 0\.01 s; polling every 1 s/));
    });

    it('no interval: every 5 s; interval and expires_in sent as strings: read as the numbers they are', async () => {
      idp.settings.deviceInterval = null;
      const absent = await approvedDeviceSignIn();
      assert.ok(absent.result);
      assert.deepEqual(absent.clock.sleeps, [5_000]);
      assert.ok(debugLine(/sent no polling interval; polling every 5 s/));

      idp.injectFault('device_authorization', { kind: 'edit_answer', set: { interval: '3', expires_in: '900' } });
      const strings = await approvedDeviceSignIn();
      assert.ok(strings.result, String(strings.error));
      assert.deepEqual(strings.clock.sleeps, [3_000]);
      assert.ok(debugLine(/interval as the string "3"/) && debugLine(/expires_in as the string "900"/));
    });

    for (const [label, set] of [
      ['numbers', { interval: 3_000_000, expires_in: 1e306 }],
      ['strings', { interval: '3000000', expires_in: '94608000' }],
    ] as const) {
      it(`an interval of 35 days and a code that lives for ages (${label}): polls a minute apart, and the sign-in ends after 30 minutes`, async () => {
        idp.injectFault('device_authorization', { kind: 'edit_answer', set });
        const clock = virtualClock();
        // A bound for the test itself: a sign-in that would wait for ages is stopped after 100 polls.
        const stop = new AbortController();
        const bounded = { now: () => clock.now(), sleep: (ms: number, signal?: AbortSignal) => (clock.sleeps.length >= 100 ? (stop.abort(), clock.sleep(ms, signal)) : clock.sleep(ms, signal)) };
        let prompt: DeviceCodePrompt | undefined;
        const error = await signInWithDeviceGrant(clientFor(), { logger: logs, scopes, clock: bounded, signal: stop.signal, onPrompt: (shown) => (prompt = shown) }).catch((caught: unknown) => caught);
        assert.ok(prompt);
        assert.equal(prompt.expiresAt - clock.at[0]! + clock.sleeps[0]!, 1_800_000, 'the code is given 30 minutes');
        assertReported(error, 'code_expired', 'a code that lives for ages');
        assert.match((error as Error).message, /expired after 1800 s/);
        assert.deepEqual(clock.sleeps, Array(30).fill(60_000), 'a poll a minute, for 30 minutes');
        assert.equal(polls().length, 30);
        assert.ok(logs.lines.some((line) => line.startsWith('info ') && /code .* to live; waiting for its approval at most 1800 s/.test(line)), logs.lines.join('\n'));
        assert.ok(debugLine(/asked for a poll every 3000000 s; polling every 60 s/));
      });
    }

    it('an interval of 35 days on the real clock: no poll at all within a second (setTimeout would have fired after 1 ms)', async () => {
      idp.injectFault('device_authorization', { kind: 'edit_answer', set: { interval: 3_000_000, expires_in: 100_000_000 } });
      const stop = new AbortController();
      let shown: () => void;
      const prompted = new Promise<void>((resolve) => (shown = resolve));
      const signIn = signInWithDeviceGrant(clientFor(), { logger: logs, scopes, signal: stop.signal, onPrompt: () => shown() }).catch((caught: unknown) => caught);
      await prompted;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      stop.abort();
      assert.equal(reasonOf(await signIn), 'cancelled');
      assert.equal(polls().length, 0);
    });

    it('an interval longer than the code lives: polled all the same before it expires, so "not approved in time" is true', async () => {
      idp.injectFault('device_authorization', { kind: 'edit_answer', set: { interval: 600, expires_in: 10 } });
      const { error, clock } = await approvedDeviceSignIn(clientFor(), { approve: false });
      assertReported(error, 'code_expired', 'interval longer than the code lives');
      assert.deepEqual(clock.sleeps, [5_000, 5_000], 'twice while the code lives');
      assert.equal(polls().length, 2);
    });

    /** One unusual answer, then the IdP's own (the tokens): what the client waited after it, or how it ended. */
    const answers: Array<{ answer: string; fault: Fault; waitsAfter?: number; ends?: FailureReason }> = [
      { answer: '429 alone', fault: text(429), waitsAfter: 4_000 },
      { answer: '429 + Retry-After: 10', fault: text(429, { 'retry-after': '10' }), waitsAfter: 10_000 },
      { answer: '429 + slow_down', fault: json(429, { error: 'slow_down' }), waitsAfter: 7_000 },
      { answer: '429 + Retry-After: 10 + slow_down', fault: json(429, { error: 'slow_down' }, { 'retry-after': '10' }), waitsAfter: 10_000 },
      { answer: '429 + access_denied', fault: json(429, { error: 'access_denied' }), ends: 'denied' },
      { answer: '502 (HTML)', fault: text(502), waitsAfter: 4_000 },
      { answer: '502 + Retry-After: 20', fault: text(502, { 'retry-after': '20' }), waitsAfter: 20_000 },
      { answer: '502 + server_error', fault: json(502, { error: 'server_error' }), waitsAfter: 4_000 },
      { answer: '503 + slow_down', fault: json(503, { error: 'slow_down' }), waitsAfter: 7_000 },
      { answer: '504 alone', fault: text(504), waitsAfter: 4_000 },
      { answer: '504 + Retry-After: 600 (capped at a minute)', fault: text(504, { 'retry-after': '600' }), waitsAfter: 60_000 },
      { answer: '504 + temporarily_unavailable', fault: json(504, { error: 'temporarily_unavailable' }), waitsAfter: 4_000 },
      { answer: '403 + authorization_pending', fault: json(403, { error: 'authorization_pending' }), waitsAfter: 2_000 },
      { answer: '428 + authorization_pending', fault: json(428, { error: 'authorization_pending' }), waitsAfter: 2_000 },
      { answer: '200 + authorization_pending', fault: { kind: 'status', status: 200, body: JSON.stringify({ error: 'authorization_pending' }) }, waitsAfter: 2_000 },
      { answer: '400 + temporarily_unavailable', fault: json(400, { error: 'temporarily_unavailable' }), waitsAfter: 4_000 },
      { answer: '500 + server_error', fault: json(500, { error: 'server_error' }), ends: 'idp_failed' },
    ];
    for (const { answer, fault, waitsAfter, ends } of answers) {
      it(`${answer} -> ${ends ? `ends: ${ends}` : `next poll after ${waitsAfter! / 1000} s, then signed in`}`, async () => {
        idp.injectFault('token', fault);
        const { result, error, clock } = await approvedDeviceSignIn();
        if (ends) {
          assertReported(error, ends, answer);
          assert.equal(polls().length, 1, 'no poll after a final answer');
          return;
        }
        assert.ok(result, `${answer}: ${String(error)}`);
        assert.deepEqual(clock.sleeps, [2_000, waitsAfter]);
        assert.deepEqual(polls().map((poll) => poll.injected ?? poll.status), [fault.kind, 200]);
        if (fault.kind === 'status' && fault.status === 200) assert.ok(debugLine(/an error answer \("authorization_pending"\) with HTTP 200/));
      });
    }

    it('an error code with a line break and escape sequences in an HTTP 200 answer: logged on one line, without control characters', async () => {
      idp.injectFault('token', { kind: 'status', status: 200, body: JSON.stringify({ error: 'slow\n2031-01-01 [error] forged line\u001b[2K\r' }) });
      const { error } = await approvedDeviceSignIn();
      assertReported(error, 'idp_failed', 'a forged error code');
      const noted = logs.lines.filter((line) => /with HTTP 200/.test(line));
      assert.equal(noted.length, 1, logs.lines.join('\n'));
      assert.match(noted[0]!, /an error answer \("slow 2031-01-01 \[error\]\u200b forged line［2K"\) with HTTP 200/);
      // eslint-disable-next-line no-control-regex -- looking for control characters
      assert.ok(logs.lines.every((line) => !/[\u0000-\u001f\u007f-\u009f]/.test(line)), 'no line break or control character in any log line');
    });

    it('a token answer that arrives after the client gave up: the sign-in ends saying that it may have happened, and never silently', async () => {
      idp.injectFault('token', { kind: 'late_answer', ms: requestTimeoutMs * 2 });
      const { result, error } = await approvedDeviceSignIn(clientFor({ timeoutMs: requestTimeoutMs }));
      assert.equal(result, undefined);
      const reported = assertReported(error, 'answer_lost', 'late token answer');
      assert.match(reported.message, /answer was lost .*did not answer within 1 s.*refuses the device code \(invalid_grant\)/);
      assert.ok(idp.issued.some((secret) => secret.kind === 'access_token'), 'the IdP did issue tokens: the answer that carried them was lost');
      assert.deepEqual(polls().map((poll) => poll.injected ?? poll.status), ['late_answer', 400], 'one poll more, which the IdP refused');
      assert.ok(logs.lines.some((line) => line.startsWith('warn ') && /Polling failed \(The identity provider did not answer within 1 s/.test(line)));
    });

    it('a token answer that arrives too late, then expired_token for the spent code: the answer was lost, not "not approved in time"', async () => {
      idp.injectFault('token', { kind: 'late_answer', ms: requestTimeoutMs * 2 });
      idp.injectFault('token', json(400, { error: 'expired_token' }));
      const { result, error } = await approvedDeviceSignIn(clientFor({ timeoutMs: requestTimeoutMs }));
      assert.equal(result, undefined);
      const reported = assertReported(error, 'answer_lost', 'late answer, then expired_token');
      assert.match(reported.message, /refuses the device code \(expired_token\)/);
      assert.deepEqual(polls().map((poll) => poll.injected ?? poll.status), ['late_answer', 'status']);
    });

    it('answers that keep arriving too late until the code expires: the sign-in ends saying the answers were lost', async () => {
      idp.settings.deviceCodeTtl = 10;
      idp.settings.deviceInterval = 1;
      idp.injectFault('token', { kind: 'late_answer', ms: requestTimeoutMs * 2 }, 10);
      const { error, clock } = await approvedDeviceSignIn(clientFor({ timeoutMs: requestTimeoutMs }), { approve: false });
      assertReported(error, 'answer_lost', 'late answers until expiry');
      assert.deepEqual(clock.sleeps, [1_000, 2_000, 4_000], 'backed off, and stopped at expires_in');
    });
  });

  describe('the browser sign-in', () => {
    it('a loopback redirect URI the IdP refuses: the waiting sign-in is told, and ends saying which address to register', async () => {
      const client = clientFor({ clientId: REDIRECT_REFUSING_CLIENT_ID });
      let told: string | undefined;
      let idpPage: string | undefined;
      const error = await signInWithLoopback(client, {
        logger: logs,
        scopes,
        pages,
        timeoutMs: 1_500,
        browserCheck: () => ({ timeoutMs: 5_000, onMissed: () => assert.fail('the browser did reach /start') }),
        noReturn: { afterMs: 300, notify: (redirectUri) => (told = redirectUri) },
        openBrowser: async (url) => {
          // The browser follows /start to the IdP, which shows its own error page and goes no further.
          idp.authorize(url).catch((caught: unknown) => (idpPage = String(caught)));
          return true;
        },
      }).catch((caught: unknown) => caught);
      assert.match(idpPage ?? '', /redirect_uri/, 'the IdP refused the redirect URI on its own page');
      assert.match(told ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/, 'told while still waiting');
      const reported = assertReported(error, 'redirect_refused', 'refused redirect URI');
      assert.ok(reported.message.includes(told!), 'the address to register is named');
      assert.ok(logs.lines.some((line) => line.startsWith('warn ') && /may refuse that redirect URI/.test(line)));

      const hint = redirectHint(told!, { kind: 'device', uri: commandUri('oauthAnywhere.useCodeInstead', '1') }, format);
      assertPlainNotification(hint, 'redirect hint');
      assert.deepEqual(notificationLinks(hint), [commandUri('oauthAnywhere.useCodeInstead', '1')], 'and offers the code instead');
      assert.ok(hint.includes(told!) && /Loopback Port/.test(hint));
    });

    it('metadata lists that are no lists (grant types, PKCE methods): read as not listed, and the browser sign-in goes on', async () => {
      idp.injectFault('discovery', { kind: 'edit_answer', set: { code_challenge_methods_supported: { S256: true }, grant_types_supported: 'authorization_code' } });
      const client = clientFor();
      assert.deepEqual(await client.capabilities(), { authorizationCode: true, deviceGrant: true, revocation: true, userinfo: true });
      const result = await signInWithLoopback(client, { logger: logs, scopes, pages, timeoutMs: 10_000, openBrowser: async (url) => (void idp.authorize(url), true) });
      assert.equal(result.identity.label, 'demo');
    });

    it('plain OAuth 2.0 (no openid): no nonce, no ID token, signed in by browser and by code under a stable name', async () => {
      const plain = ['offline_access'];
      let authorizeUrl: URL | undefined;
      const browser = await signInWithLoopback(clientFor(), {
        logger: logs,
        scopes: plain,
        pages,
        timeoutMs: 10_000,
        openBrowser: async (url) => ((authorizeUrl = new URL(url)), meanwhile(idp.authorize(url)), true),
      });
      assert.equal(authorizeUrl?.searchParams.has('nonce'), false);
      assert.equal(browser.tokens.idToken, undefined);
      const { result: device } = await approvedDeviceSignIn(clientFor(), { requested: plain });
      assert.ok(device);
      const placeholder = `Account at ${new URL(idp.issuer).host}`;
      assert.deepEqual([browser.identity.label, device.identity.label], [placeholder, placeholder]);
      assert.equal(browser.identity.subject, device.identity.subject, 'the same name each time: a second sign-in replaces the session');

      // With openid, the nonce is sent (and an ID token required).
      await signInWithLoopback(clientFor(), { logger: logs, scopes, pages, timeoutMs: 10_000, openBrowser: async (url) => ((authorizeUrl = new URL(url)), meanwhile(idp.authorize(url)), true) });
      assert.equal(authorizeUrl?.searchParams.has('nonce'), true);
    });
  });

  it('openid asked for, a token answer without an ID token naming someone in unsigned fields: refused by code and by browser alike', async () => {
    const forged = { kind: 'edit_answer', set: { id_token: null, sub: 'someone-else', username: 'Administrator' } } as const;
    idp.injectFault('token', forged);
    const { result, error } = await approvedDeviceSignIn();
    assert.equal(result, undefined, `not signed in as ${JSON.stringify(result?.identity)}`);
    const device = assertReported(error, 'protocol_violation', 'device answer without an ID token');
    assert.match(device.message, /no ID token/);
    assert.equal(device.details.grantRedeemed, true, 'the spent device code is not polled again');
    assert.equal(polls().length, 1);

    idp.injectFault('token', forged);
    const browser = await signInWithLoopback(clientFor(), { logger: logs, scopes, pages, timeoutMs: 10_000, openBrowser: async (url) => (void idp.authorize(url), true) }).catch((caught: unknown) => caught);
    assertReported(browser, 'protocol_violation', 'browser answer without an ID token');
  });

  it('a token answer whose expires_in is beyond any date and whose scope carries escape sequences: a session that loads again in the next window, with clean scopes', async () => {
    const oneYear = 365 * 24 * 3_600_000;
    idp.injectFault('token', { kind: 'edit_answer', set: { expires_in: 1e306, scope: 'openid\tprofile\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b[2K email\nbad"quote back\\slash' } });
    const shared = createSharedSecrets();
    const first = deviceSessionManager(idp, shared.window(), { scopes: ['openid', 'profile', 'email'] });
    const signedIn = Date.now();
    const session = await first.manager.createSession(['openid', 'profile', 'email']);
    first.manager.dispose();
    await shared.settled();

    const next = deviceSessionManager(idp, shared.window(), { scopes: ['openid', 'profile', 'email'] });
    try {
      const [stored] = await next.manager.listSessions();
      assert.equal(stored?.id, session.id, 'the next window loads the session');
      assert.deepEqual([...stored.scopes].sort(), ['email', 'openid'], 'only well-formed scope tokens, split on any whitespace');
      const expiresAt = await next.manager.store.all().then((all) => all[0]?.tokens.expiresAt);
      assert.ok(expiresAt !== undefined && expiresAt - signedIn <= oneYear + 60_000 && expiresAt - signedIn >= oneYear - 60_000, `expires in a year: ${expiresAt}`);
    } finally {
      next.manager.dispose();
    }
  });

  it('an account name with VS Code icon syntax: $( is kept from becoming an icon in VS Code\'s pickers', async () => {
    idp.account.preferred_username = '$(shield) Administrator $(x';
    const { result } = await approvedDeviceSignIn();
    assert.equal(result?.identity.label, '$\u200b(shield) Administrator $\u200b(x');
  });

  describe('the account\'s name', () => {
    it('an ID token that names the account: no userinfo request', async () => {
      const { result } = await approvedDeviceSignIn();
      assert.equal(result?.identity.label, 'demo');
      assert.equal(idp.count('userinfo'), 0);
    });

    describe('an ID token without a name', () => {
      beforeEach(() => {
        delete idp.account.preferred_username;
        delete idp.account.email;
        delete idp.account.name;
      });

      it('userinfo names the account', async () => {
        idp.injectFault('userinfo', { kind: 'edit_answer', set: { preferred_username: 'from-userinfo' } });
        const { result } = await approvedDeviceSignIn();
        assert.deepEqual(result?.identity, { subject: DEMO_ACCOUNT.sub, label: 'from-userinfo' });
        assert.equal(idp.count('userinfo'), 1);
      });

      for (const [label, fault] of [
        ['fails (HTTP 500)', text(500)],
        ['answers 2 MiB', { kind: 'oversized', bytes: 2 * 1024 * 1024 }],
        ['names another subject', { kind: 'edit_answer', set: { sub: 'someone-else', preferred_username: 'mallory' } }],
      ] as const) {
        it(`userinfo ${label}: signed in all the same, named by the subject, with a log line`, async () => {
          idp.injectFault('userinfo', fault);
          const { result, error } = await approvedDeviceSignIn();
          assert.ok(result, String(error));
          assert.deepEqual(result.identity, { subject: DEMO_ACCOUNT.sub, label: DEMO_ACCOUNT.sub });
          assert.ok(logs.lines.some((line) => line.startsWith('warn ') && /names no account and userinfo failed .*named by its subject/.test(line)), logs.lines.join('\n'));
        });
      }
    });
  });

  it('nothing the IdP issued is in any log line of this suite', () => {
    assert.deepEqual(findLeaks(logs.lines.join('\n'), idp.issued), []);
  });
});
