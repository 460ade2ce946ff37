// Every endpoint of the identity provider x every way it can misbehave, against the real test IdP
// (oidc-provider) with its fault injection. Each cell checks the error kind and what it carries, that
// the message is one clear line naming the step, with no stack and no secret the IdP issued, that
// nothing was stored for a failed sign-in or refresh, and that the operation settles within the
// client's request timeout (the test's own `timeout` fails a hang). Where a fault does not fail the
// operation by design, the cell asserts that behaviour instead.
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionManager, type SignInRunner } from '../../src/auth/sessionManager.js';
import { loadCallbackPages } from '../../src/oauth/callbackPages.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithDeviceGrant } from '../../src/oauth/deviceGrant.js';
import { OAuthError, type OAuthErrorKind } from '../../src/oauth/errors.js';
import { signInWithLoopback } from '../../src/oauth/loopback.js';
import { Redactor } from '../../src/oauth/redact.js';
import { DEVICE_CODE_GRANT, startTestIdp, type Fault, type IdpEndpoint, type TestIdp } from '../support/idp.js';
import { identityOf, storedSessions } from '../support/storedSessions.js';
import { fastPolling } from '../support/deviceSessionManager.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets } from '../support/memorySecretStorage.js';
import { findLeaks, recordOutput } from '../support/secretLedger.js';
import { gatedClock, movableClock } from '../support/clocks.js';

const scopes = ['openid', 'profile', 'email', 'offline_access'];
const pages = loadCallbackPages(join(__dirname, '../../media'));
/**
 * Short, so that "no answer" is a timeout within the test, and every cell settles well inside
 * `cellTimeout`; long enough for the IdP's real answers on a machine whose cores are all busy (a real
 * answer taken for a lost one would fail a sign-in that should work).
 */
const requestTimeoutMs = 1_500;
const maxBodyBytes = 1024 * 1024;
const cellTimeout = 20_000;
const hour = 3_600_000;

type FaultName = '500' | '503 + Retry-After' | 'no answer' | 'connection reset' | 'malformed JSON' | 'HTML error page' | 'wrong content type' | 'oversized body' | 'issuer mismatch';

const faults: Record<FaultName, Fault> = {
  '500': { kind: 'status', status: 500 },
  // What a load balancer sends: plain text, not an OAuth error body.
  '503 + Retry-After': { kind: 'status', status: 503, headers: { 'retry-after': '7' }, contentType: 'text/plain', body: 'Service Unavailable' },
  // Held far longer than the client waits; the IdP drops it once the client gives up.
  'no answer': { kind: 'delay', ms: 60_000 },
  'connection reset': { kind: 'reset' },
  'malformed JSON': { kind: 'malformed_json' },
  'HTML error page': { kind: 'status', status: 502, contentType: 'text/html' },
  'wrong content type': { kind: 'wrong_content_type' },
  'oversized body': { kind: 'oversized', bytes: maxBodyBytes + 64 * 1024 },
  'issuer mismatch': { kind: 'issuer_mismatch' },
};

type Expected =
  | { fails: OAuthErrorKind; status?: number; retryAfterSeconds?: number }
  | { succeeds: string };

/** What a fault does to an operation, unless the endpoint says otherwise. */
const byFault: Record<FaultName, Expected> = {
  '500': { fails: 'idp_error', status: 500 },
  '503 + Retry-After': { fails: 'idp_error', status: 503, retryAfterSeconds: 7 },
  'no answer': { fails: 'timeout' },
  'connection reset': { fails: 'network' },
  'malformed JSON': { fails: 'invalid_response' },
  'HTML error page': { fails: 'idp_error', status: 502 },
  // oauth4webapi reads a body that parses as JSON whatever its label, and checks the content type
  // only to explain a body that does not parse: a mislabelled but real answer works.
  'wrong content type': { succeeds: 'a mislabelled JSON answer is read as JSON' },
  'oversized body': { fails: 'invalid_response' },
  'issuer mismatch': { fails: 'invalid_response' },
};

type Operation = 'discovery' | 'jwks' | 'device_authorization' | 'token (device poll)' | 'token (code exchange)' | 'refresh' | 'revocation' | 'userinfo';

interface Row {
  /** Where the fault is injected at the IdP. */
  endpoint: IdpEndpoint;
  /** The message names the step, or at least the endpoint it talked to. */
  mentions: RegExp;
  faults: FaultName[];
  overrides?: Partial<Record<FaultName, Expected>>;
}

const common: FaultName[] = ['500', '503 + Retry-After', 'no answer', 'connection reset', 'malformed JSON', 'HTML error page', 'wrong content type', 'oversized body'];

const table: Record<Operation, Row> = {
  discovery: { endpoint: 'discovery', mentions: /discovery|metadata|\/\.well-known\//, faults: [...common, 'issuer mismatch'] },
  jwks: { endpoint: 'jwks', mentions: /jwks|key set|signing key|ID token|device sign-in/, faults: common },
  device_authorization: { endpoint: 'device_authorization', mentions: /device sign-in|\/device\/auth/, faults: common },
  'token (device poll)': {
    endpoint: 'token',
    mentions: /device sign-in|\/token\b/,
    faults: common,
    // RFC 8628 3.5: connection trouble while polling slows the polling down instead of ending a
    // sign-in the user may be approving right now; the next poll gets the tokens. So do 502, 503
    // (and 429, 504): an overloaded identity provider or gateway, not a refusal.
    overrides: {
      '503 + Retry-After': { succeeds: 'a 503 while polling backs off and polls again' },
      'HTML error page': { succeeds: 'a 502 while polling backs off and polls again' },
      'no answer': { succeeds: 'a timeout while polling backs off and polls again' },
      'connection reset': { succeeds: 'a reset while polling backs off and polls again' },
    },
  },
  'token (code exchange)': { endpoint: 'token', mentions: /authorization code|browser sign-in|\/token\b/, faults: common },
  refresh: { endpoint: 'refresh', mentions: /refresh|\/token\b/, faults: common },
  revocation: {
    endpoint: 'revocation',
    mentions: /revok|\/token\/revocation/,
    faults: common,
    // RFC 7009 2.2: only the status code of a revocation answer counts; its body is ignored.
    overrides: { 'malformed JSON': { succeeds: 'a 200 revocation answer with any body is a success' } },
  },
  userinfo: { endpoint: 'userinfo', mentions: /userinfo|account|\/me\b/, faults: common },
};


/** One window of the extension against one IdP, with storage the test can inspect. */
function harness(idp: TestIdp, flow: 'device' | 'loopback') {
  const clock = movableClock();
  const logs: string[] = [];
  const logger = captureLogger(logs);
  const client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger, clock, limits: { timeoutMs: requestTimeoutMs, maxBodyBytes } });
  const shared = createSharedSecrets();
  const identity = identityOf(client.issuer, client.clientId);
  const stored = () => storedSessions(shared.backing, identity);
  const refreshProblems: unknown[] = [];
  const pagesSeen: string[] = [];

  const signIn: SignInRunner = (request) => {
    if (flow === 'loopback') {
      return signInWithLoopback(client, {
        logger,
        scopes: request.scopes,
        pages,
        timeoutMs: 60_000,
        openBrowser: async (url) => {
          void idp.authorize(url).then(
            (answer) => pagesSeen.push(answer.body ?? ''),
            (error: unknown) => pagesSeen.push(`authorize failed: ${String(error)}`),
          );
          return true;
        },
      });
    }
    // The user approves before the first poll, so a fault on the token endpoint or on the key set
    // meets the answer that carries the tokens, not an authorization_pending.
    const { gated, gateOn } = gatedClock(clock);
    return signInWithDeviceGrant(client, {
      ...fastPolling,
      logger,
      scopes: request.scopes,
      clock: gated,
      onPrompt: (prompt) => gateOn(idp.approveDevice(prompt.userCode).catch(() => undefined)),
    });
  };

  const manager = new SessionManager({
    providerId: 'oauth-anywhere',
    client,
    configuredScopes: scopes,
    secrets: shared.window(),
    signIn,
    logger,
    redactor: new Redactor(),
    clock,
    revocationTimeoutMs: 5_000,
    onRefreshProblem: (_account, error) => refreshProblems.push(error),
  });
  return { clock, logs, client, shared, stored, refreshProblems, manager, pagesSeen };
}

async function outcomeOf<T>(operation: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await operation };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The error is the expected one and says what happened in one line, without a stack or a secret. */
function assertExpectedFailure(idp: TestIdp, outcome: { ok: boolean; error?: unknown }, expected: Extract<Expected, { fails: OAuthErrorKind }>, mentions: RegExp, label: string): void {
  assert.equal(outcome.ok, false, `${label}: expected a ${expected.fails} failure, but it succeeded`);
  const { error } = outcome;
  assert.ok(error instanceof OAuthError, `${label}: not an OAuthError: ${String(error)}`);
  recordOutput(`idpFaults ${label}`, error.message);
  assert.equal(error.kind, expected.fails, `${label}: kind (message: ${error.message})`);
  if (expected.status !== undefined) assert.equal(error.details.status, expected.status, `${label}: status`);
  if (expected.retryAfterSeconds !== undefined) assert.equal(error.details.retryAfterSeconds, expected.retryAfterSeconds, `${label}: Retry-After`);
  assert.ok(error.message.trim().length > 20, `${label}: a message a person can act on: "${error.message}"`);
  assert.ok(!/[\r\n]/.test(error.message), `${label}: one line, no stack: ${error.message}`);
  assert.ok(!/\bat .+:\d+:\d+/.test(error.message) && !error.message.includes('node_modules'), `${label}: no stack frames: ${error.message}`);
  assert.match(error.message, mentions, `${label}: the message names the step or the endpoint: ${error.message}`);
  assert.deepEqual(findLeaks(error.message, idp.issued), [], `${label}: no secret in the message`);
}

function assertNoSecretsLogged(idp: TestIdp, logs: readonly string[], extra: readonly string[], label: string): void {
  assert.deepEqual(findLeaks([...logs, ...extra].join('\n'), idp.issued), [], `${label}: no secret in the log or the pages`);
}

const runners: Record<Operation, (idp: TestIdp, name: FaultName, expected: Expected, row: Row) => Promise<void>> = {
  // Sign-in steps: driven through the session manager; a failed sign-in stores nothing.
  discovery: (idp, name, expected, row) => signInCell(idp, name, expected, row, 'device'),
  jwks: (idp, name, expected, row) => signInCell(idp, name, expected, row, 'device'),
  device_authorization: (idp, name, expected, row) => signInCell(idp, name, expected, row, 'device'),
  'token (device poll)': (idp, name, expected, row) => signInCell(idp, name, expected, row, 'device'),
  'token (code exchange)': (idp, name, expected, row) => signInCell(idp, name, expected, row, 'loopback'),

  async refresh(idp, name, expected, row) {
    const h = harness(idp, 'device');
    const session = await h.manager.createSession([]);
    const before = JSON.stringify(h.stored());
    assert.equal(h.stored().length, 1);
    idp.injectFault(row.endpoint, faults[name]);
    h.clock.advance(2 * hour);
    const served = await h.manager.getSessions(['openid']);
    // A failed refresh leaves the session out of this answer (and tells why), it does not throw.
    const outcome = h.refreshProblems.length ? { ok: false as const, error: h.refreshProblems[0] } : { ok: true as const, value: served };
    const label = `refresh x ${name}`;
    if ('fails' in expected) {
      assertExpectedFailure(idp, outcome, expected, row.mentions, label);
      assert.deepEqual(served, [], `${label}: the expired session is not served`);
      // A refresh that failed for a passing reason keeps the session as it was: nothing half-written.
      assert.equal(JSON.stringify(h.stored()), before, `${label}: the stored session is unchanged`);
    } else {
      assert.ok(outcome.ok, `${label}: ${expected.succeeds}, but: ${String(!outcome.ok && outcome.error)}`);
      assert.equal(outcome.value.length, 1);
      assert.equal(outcome.value[0]!.id, session.id);
      assert.notEqual(outcome.value[0]!.accessToken, session.accessToken, `${label}: a new access token`);
      const [stored] = h.stored();
      assert.equal(stored!.tokens.accessToken, outcome.value[0]!.accessToken, `${label}: the refreshed tokens are stored`);
      assert.equal((await idp.introspect(stored!.tokens.refreshToken!)).active, true);
    }
    assertNoSecretsLogged(idp, h.logs, [], label);
  },

  async revocation(idp, name, expected, row) {
    const h = harness(idp, 'device');
    const session = await h.manager.createSession([]);
    const label = `revocation x ${name}`;
    // The client's own answer first, then sign-out through the manager (refresh + access token).
    idp.injectFault(row.endpoint, faults[name], 3);
    const direct = await outcomeOf(h.client.revoke(h.stored()[0]!.tokens.refreshToken!, 'refresh_token'));
    if ('fails' in expected) assertExpectedFailure(idp, direct, expected, row.mentions, label);
    else assert.ok(direct.ok && direct.value === true, `${label}: ${expected.succeeds}, but: ${String(!direct.ok && direct.error)}`);

    const removed: string[] = [];
    h.manager.onDidChangeSessions((changes) => removed.push(...changes.removed.map((gone) => gone.id)));
    await h.manager.removeSession(session.id);
    // RFC 7009 is best effort from the client's side: whatever the IdP did, the user is signed out here.
    assert.deepEqual(h.stored(), [], `${label}: signed out locally`);
    assert.deepEqual(await h.manager.getSessions(undefined), []);
    assert.deepEqual(removed, [session.id], `${label}: "removed" fired`);
    if ('fails' in expected) {
      assert.ok(h.logs.some((line) => line.startsWith('warn') && /Could not revoke/.test(line)), `${label}: the failed revocation is logged`);
    }
    assertNoSecretsLogged(idp, h.logs, [], label);
  },

  async userinfo(idp, name, expected, row) {
    const h = harness(idp, 'device');
    const session = await h.manager.createSession([]);
    idp.injectFault(row.endpoint, faults[name]);
    const outcome = await outcomeOf(h.client.userinfo(session.accessToken, 'demo-user'));
    const label = `userinfo x ${name}`;
    if ('fails' in expected) assertExpectedFailure(idp, outcome, expected, row.mentions, label);
    else assert.ok(outcome.ok && outcome.value.sub === 'demo-user', `${label}: ${expected.succeeds}, but: ${String(!outcome.ok && outcome.error)}`);
    assertNoSecretsLogged(idp, h.logs, [], label);
  },
};

async function signInCell(idp: TestIdp, name: FaultName, expected: Expected, row: Row, flow: 'device' | 'loopback'): Promise<void> {
  const h = harness(idp, flow);
  if (row.endpoint !== 'discovery') await h.client.metadata();
  idp.injectFault(row.endpoint, faults[name]);
  const label = `${row.endpoint} (${flow} sign-in) x ${name}`;
  const outcome = await outcomeOf(h.manager.createSession([]));
  assert.ok(idp.requests.some((request) => request.injected === faults[name].kind), `${label}: the fault was met`);
  if ('fails' in expected) {
    assertExpectedFailure(idp, outcome, expected, row.mentions, label);
    assert.equal(h.shared.backing.size, 0, `${label}: nothing stored`);
    assert.deepEqual(await h.manager.getSessions(undefined), []);
    if (row.endpoint === 'jwks') {
      // The device code was redeemed; polling again would replay it (and make the IdP revoke the grant).
      const pollsAfterTokens = idp.requests.filter((request) => request.grantType === DEVICE_CODE_GRANT).slice(1);
      assert.deepEqual(pollsAfterTokens.map((request) => request.status), [], `${label}: no poll after the tokens were issued`);
    }
  } else {
    assert.ok(outcome.ok, `${label}: ${expected.succeeds}, but: ${String(!outcome.ok && outcome.error)}`);
    assert.equal(outcome.value.account.label, 'demo');
    const sessions = await h.manager.getSessions(['openid']);
    assert.deepEqual(sessions.map((session) => session.id), [outcome.value.id], `${label}: the session is stored and served`);
    assert.equal((await idp.userinfo(sessions[0]!.accessToken)).status, 200);
  }
  if (flow === 'loopback') {
    // The browser's page is part of what the user sees: it must not carry a secret either.
    for (let turn = 0; turn < 200 && h.pagesSeen.length === 0; turn++) await new Promise((resolve) => setTimeout(resolve, 10));
    for (const page of h.pagesSeen) recordOutput(`idpFaults page ${label}`, page);
  }
  assertNoSecretsLogged(idp, h.logs, h.pagesSeen, label);
}

describe('identity provider faults, endpoint by endpoint (real oidc-provider)', () => {
  for (const [operation, row] of Object.entries(table) as [Operation, Row][]) {
    describe(operation, () => {
      for (const name of row.faults) {
        const expected = row.overrides?.[name] ?? byFault[name];
        const title = 'fails' in expected
          ? `${name} -> ${expected.fails}${expected.status ? ` (HTTP ${expected.status})` : ''}`
          : `${name} -> works: ${expected.succeeds}`;
        it(title, { timeout: cellTimeout }, async () => {
          const idp = await startTestIdp({ deviceInterval: 0.01 });
          try {
            await runners[operation](idp, name, expected, row);
          } finally {
            idp.clearFaults();
            await idp.close();
          }
        });
      }
    });
  }

  it('a refresh that fails for a passing reason keeps serving a token that has not expired yet', { timeout: cellTimeout }, async () => {
    const idp = await startTestIdp({ deviceInterval: 0.01 });
    try {
      const h = harness(idp, 'device');
      const session = await h.manager.createSession([]);
      const before = JSON.stringify(h.stored());
      idp.injectFault('refresh', faults['503 + Retry-After']);
      // Inside the refresh margin (the last five minutes of the hour), not expired.
      h.clock.advance(57 * 60_000);
      const sessions = await h.manager.getSessions(['openid']);
      assert.deepEqual(sessions.map((served) => served.accessToken), [session.accessToken]);
      assert.equal(idp.count('refresh'), 1, 'the refresh was tried');
      assert.equal(JSON.stringify(h.stored()), before);
      assert.ok(h.logs.some((line) => line.startsWith('warn') && /Refresh of demo failed/.test(line)), 'the failure is logged');
      assertNoSecretsLogged(idp, h.logs, [], 'refresh near expiry');
    } finally {
      await idp.close();
    }
  });
});
