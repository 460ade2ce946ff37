import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import { openableUrl, parseIssuer } from '../../src/oauth/endpointUrls.js';
import { codeRefused, toOAuthError } from '../../src/oauth/errorMapping.js';
import { OAuthError, reasonKinds, reasonOf, type FailureReason } from '../../src/oauth/errors.js';
import { explainedReasons, reasonTexts, signInFailureMessage, type Translate } from '../../src/vscode/errorMessages.js';
import { adviceOpeners, repeatedSentences, sentences } from '../support/messages.js';
import { format as t } from '../support/renderedText.js';

/** The reasons as errors.ts declares them, read from its source: a reason added there must get a text here. */
function declaredReasons(): FailureReason[] {
  const source = readFileSync(join(__dirname, '../../src/oauth/errors.ts'), 'utf8');
  const union = /export type FailureReason =([\s\S]*?);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/\| '([a-z_]+)'/g)].map((match) => match[1] as FailureReason);
}

const as: oauth.AuthorizationServer = { issuer: 'https://idp.example.test', token_endpoint: 'https://idp.example.test/token', device_authorization_endpoint: 'https://idp.example.test/device' };
const client: oauth.Client = { client_id: 'vscode-native' };
const json = (status: number, body: unknown, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const thrownBy = async (run: () => Promise<unknown>) => run().then(() => assert.fail('accepted'), (error: unknown) => error);
const refresh = (response: Response) => thrownBy(() => oauth.processRefreshTokenResponse(as, client, response));
const mapped = async (error: Promise<unknown>, action = 'refreshing the session') => toOAuthError(await error, action);
const caught = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error as OAuthError;
  }
  return assert.fail('did not throw');
};

/**
 * For every reason, the error the core really makes for it where a unit test can make it (oauth4webapi's
 * own processing of a crafted answer, the URL checks), else a message of the core's shape. The
 * integration suites (test/security/hostileIdp.test.ts) check the same on errors from the real IdP.
 */
const specimens: Record<Exclude<FailureReason, 'cancelled'>, () => Promise<OAuthError> | OAuthError> = {
  denied: () => mapped(thrownBy(() => oauth.processDeviceCodeResponse(as, client, json(400, { error: 'access_denied', error_description: 'The user denied the request.' }))), 'waiting for the device sign-in'),
  code_expired: () => mapped(thrownBy(() => oauth.processDeviceCodeResponse(as, client, json(400, { error: 'expired_token' }))), 'waiting for the device sign-in'),
  answer_lost: () => new OAuthError('answer_lost', 'An earlier poll\'s answer was lost (The identity provider did not answer within 30 s (https://idp.example.test/token).), and now the identity provider refuses the device code (invalid_grant): that poll most likely signed you in, and a device code works only once.'),
  idp_unavailable: () => mapped(refresh(new Response('busy', { status: 503, headers: { 'content-type': 'text/plain', 'retry-after': '7' } }))),
  idp_failed: () => mapped(refresh(new Response('<h1>Internal Server Error</h1>', { status: 500, headers: { 'content-type': 'text/html' } }))),
  timeout: () => new OAuthError('timeout', 'The identity provider did not answer within 30 s (https://idp.example.test/token).', { answerLost: true }),
  browser_timeout: () => new OAuthError('browser_timeout', 'The browser did not come back with the sign-in within 5 minutes.'),
  redirect_refused: () => new OAuthError('redirect_refused', 'The browser went on to the identity provider, but it did not send the browser back to http://127.0.0.1:28130/callback within 5 minutes.'),
  network: () => new OAuthError('network', 'Could not reach the identity provider at https://idp.example.test/token (ECONNREFUSED).'),
  session_expired: () => mapped(refresh(json(400, { error: 'invalid_grant', error_description: 'Token is not active' }))),
  grant_rejected: async () => codeRefused(await mapped(thrownBy(() => oauth.processAuthorizationCodeResponse(as, client, json(400, { error: 'invalid_grant', error_description: 'authorization code is invalid' }))), 'exchanging the authorization code')),
  client_rejected: () => mapped(refresh(json(401, { error: 'invalid_client', error_description: 'client authentication failed' }))),
  scope_rejected: () => mapped(refresh(json(400, { error: 'invalid_scope', error_description: 'offline_access is not allowed' }))),
  redirected: () => mapped(refresh(new Response(null, { status: 302, headers: { location: 'https://idp.example.test/realms/dev/protocol/openid-connect/token?from=1' } }))),
  not_json: () => mapped(refresh(new Response('<html>login page</html>', { status: 200, headers: { 'content-type': 'text/html' } }))),
  too_large: () => new OAuthError('too_large', "The identity provider's answer from https://idp.example.test/token is larger than 1024 KiB, so it was not read."),
  issuer_missing: () => new OAuthError('issuer_missing', 'The sign-in response carries no "iss" (issuer), although the identity provider\'s metadata says it always sends one (RFC 9207). It was refused.'),
  issuer_mismatch: () => new OAuthError('issuer_mismatch', 'The sign-in response names the issuer "https://evil.example.test", not https://idp.example.test (RFC 9207). It was refused.'),
  metadata_issuer_mismatch: () => mapped(thrownBy(() => oauth.processDiscoveryResponse(new URL('https://idp.example.test'), json(200, { issuer: 'https://other.example.test' }))), 'reading the discovery document'),
  id_token_rejected: () => new OAuthError('id_token_rejected', 'Checking the ID token while exchanging the authorization code: unexpected JWT aud (audience) claim value.'),
  signature_rejected: () => new OAuthError('signature_rejected', 'JWT signature verification failed (while exchanging the authorization code).'),
  protocol_violation: () => mapped(refresh(json(200, { token_type: 'bearer' }))),
  unsafe_url: () => caught(() => openableUrl('javascript:alert(1)', 'verification_uri')),
  settings: () => caught(() => parseIssuer('http://idp.example.test')),
  metadata_incomplete: () => new OAuthError('metadata_incomplete', 'https://idp.example.test/ has no discovery document (HTTP 404), and oauthAnywhere.endpoints does not name the endpoints instead.'),
  port_in_use: () => new OAuthError('port_in_use', 'Cannot listen on 127.0.0.1:28130 for the sign-in redirect: the port is in use (EADDRINUSE).'),
  port_unavailable: () => new OAuthError('port_unavailable', 'Cannot listen on 127.0.0.1:80 for the sign-in redirect (EACCES).'),
  unsupported: () => new OAuthError('unsupported', 'https://idp.example.test/ offers no device authorization endpoint (sign-in with a code).'),
  browser_unavailable: () => new OAuthError('browser_unavailable', 'Opening http://127.0.0.1:28130 in a browser failed.'),
  unexpected: () => toOAuthError(new TypeError('Cannot read properties of undefined'), 'exchanging the authorization code'),
};

describe('errors: one message per cause, written once', () => {
  const reasons = declaredReasons();

  test('errors.ts declares the reasons this test walks, each with its kind', () => {
    assert.ok(reasons.length >= 25, `found ${reasons.join(', ')}`);
    assert.deepEqual([...reasons].sort(), Object.keys(reasonKinds).sort());
  });

  test('every declared reason but "cancelled" has a text, and there is no text for an undeclared reason', () => {
    assert.deepEqual([...explainedReasons].sort(), reasons.filter((reason) => reason !== 'cancelled').sort());
  });

  const table: Array<{ reason: FailureReason; kind: string; message: string; actions: string }> = [];
  for (const reason of declaredReasons().filter((r): r is Exclude<FailureReason, 'cancelled'> => r !== 'cancelled')) {
    test(`${reason}: what happened, the core's facts, one piece of advice, Troubleshoot and Show Log`, async () => {
      const error = await specimens[reason]();
      assert.ok(error instanceof OAuthError, String(error));
      assert.equal(reasonOf(error), reason, `the core's error for this cause says ${error.reason}: ${error.message}`);
      assert.equal(error.kind, reasonKinds[reason]);
      const failure = signInFailureMessage(reason, error.message, t)!;
      table.push({ reason, kind: error.kind, message: failure.message, actions: failure.actions.join(', ') });
      const { happened, todo } = reasonTexts[reason];
      assert.equal(failure.message, `OAuth Anywhere sign-in failed: ${happened} ${error.message} ${todo}`);
      assert.deepEqual(repeatedSentences(failure.message), [], `no sentence twice: ${failure.message}`);
      for (const opener of adviceOpeners) assert.ok((failure.message.match(opener) ?? []).length <= 1, `"${opener.source}" at most once: ${failure.message}`);
      for (const sentence of sentences(error.message)) {
        assert.doesNotMatch(sentence, /^(Try|Check|Sign in again|Start the sign-in|Set|Use|Run)\b/, `the core states facts, the advice is the table's: "${sentence}"`);
      }
      assert.ok(failure.message.length < 1000, 'VS Code cuts notifications at 1000 characters');
      assert.ok(failure.actions.includes('troubleshoot'), 'offers Troubleshoot');
      assert.equal(failure.actions.at(-1), 'showLog', 'offers Show Log, last');
    });
  }

  test('the table: every headline and every piece of advice is different, and each is said once', () => {
    const texts = explainedReasons.map((reason) => reasonTexts[reason]);
    const all = texts.flatMap((text) => [text.happened, ...sentences(text.todo)]);
    assert.deepEqual(all.filter((text, index) => all.indexOf(text) !== index), [], 'no sentence in two places');
    assert.equal(new Set(texts.map((text) => text.happened)).size, texts.length);
    // The full table, for the record.
    for (const row of table) process.stdout.write(`# ${row.reason} (${row.kind}) [${row.actions}]: ${row.message}\n`);
  });

  test('a missing issuer and a different issuer are told apart', () => {
    assert.notEqual(reasonTexts.issuer_missing.happened, reasonTexts.issuer_mismatch.happened);
    assert.match(reasonTexts.issuer_missing.happened, /lacked/);
    assert.match(reasonTexts.issuer_mismatch.happened, /another identity provider/);
  });

  test('"too large" is not a security failure, and a 500 is not "try again" twice', async () => {
    const tooLarge = signInFailureMessage('too_large', (await specimens.too_large()).message, t)!;
    assert.doesNotMatch(tooLarge.message, /security|clock|issuer/i);
    const serverError = signInFailureMessage('idp_failed', (await specimens.idp_failed()).message, t)!;
    assert.ok((serverError.message.match(/again/gi) ?? []).length <= 1, serverError.message);
  });

  test('settings problems offer Configure first', () => {
    for (const reason of ['settings', 'client_rejected', 'scope_rejected', 'metadata_issuer_mismatch', 'port_in_use', 'port_unavailable', 'redirect_refused', 'redirected'] as const) {
      assert.deepEqual(signInFailureMessage(reason, 'd.', t)!.actions, ['configure', 'troubleshoot', 'showLog'], reason);
    }
    assert.deepEqual(signInFailureMessage('network', 'd.', t)!.actions, ['troubleshoot', 'showLog']);
  });

  test('a cancel is no failure: no notification', () => {
    assert.equal(signInFailureMessage('cancelled', 'Sign-in was cancelled.', t), undefined);
  });

  test('an error from outside the core is "unexpected", with the actions', () => {
    assert.equal(reasonOf(new Error('boom')), 'unexpected');
    const failure = signInFailureMessage(reasonOf(new Error('boom')), 'boom', t)!;
    assert.match(failure.message, /boom/);
    assert.deepEqual(failure.actions, ['troubleshoot', 'showLog']);
  });

  test('an error made with a kind alone gets that kind\'s general reason', () => {
    assert.equal(new OAuthError('invalid_grant', 'x').reason, 'session_expired');
    assert.equal(new OAuthError('timeout', 'x').reason, 'timeout');
    assert.equal(new OAuthError('expired', 'x').reason, 'code_expired');
    assert.equal(new OAuthError('misconfigured', 'x').reason, 'settings');
    assert.equal(new OAuthError('idp_error', 'x').reason, 'idp_failed');
  });

  test('the facts are shown as text: link syntax from the identity provider is no link', () => {
    const failure = signInFailureMessage('idp_failed', 'It said: "[Fix it](command:workbench.action.terminal.sendSequence?%7B%7D)\u202e"', t)!;
    assert.doesNotMatch(failure.message, /\[[^\]]*\]\(/);
    assert.ok(!failure.message.includes('\u202e'));
    assert.match(failure.message, /command:workbench/, 'the text itself is still there, to read');
  });

  test('the translation function is used for every part', () => {
    const marked: Translate = (message, ...args) => `«${t(message, ...args)}»`;
    const failure = signInFailureMessage('denied', 'D', marked)!;
    assert.equal(failure.message.match(/«/g)?.length, 3, failure.message);
  });
});
