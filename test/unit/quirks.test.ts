import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyResponseQuirks, harmlessDeviations, scopesToSend, withHarmlessDeviations, type Quirks } from '../../src/oauth/quirks.js';

/** A fetch that answers every request with this body, status and headers. */
function answering(body: string, status = 200, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return async () => new Response(body, { status, headers });
}

async function through(quirks: Quirks, body: string, status = 200, headers?: Record<string, string>, method = 'POST') {
  const response = await applyResponseQuirks(quirks, answering(body, status, headers))('https://idp.example.test/token', { method });
  return { status: response.status, type: response.headers.get('content-type'), headers: response.headers, text: await response.text() };
}

/** The JSON object an answer carries. */
function fields(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

describe('applyResponseQuirks', () => {
  test('decodes a form-encoded answer into JSON, numbers as numbers', async () => {
    const out = await through({ formEncodedAnswers: true }, 'access_token=gho_x&token_type=bearer&scope=repo%2Cuser&expires_in=28800&interval=5', 200, form);
    assert.match(out.type!, /application\/json/);
    assert.deepEqual(JSON.parse(out.text), { access_token: 'gho_x', token_type: 'bearer', scope: 'repo,user', expires_in: 28800, interval: 5 });
  });

  test('leaves a form-encoded answer alone unless asked to decode it', async () => {
    const out = await through({ commaSeparatedScope: true }, 'access_token=gho_x', 200, form);
    assert.equal(out.text, 'access_token=gho_x');
    assert.match(out.type!, /form-urlencoded/);
  });

  test('gives an error answer sent with HTTP 200 the status 400', async () => {
    const out = await through({ errorsWithStatus200: true }, JSON.stringify({ error: 'authorization_pending' }));
    assert.equal(out.status, 400);
    assert.equal(fields(out.text).error, 'authorization_pending');
    // A success that happens to carry an error field is not turned into an error.
    assert.equal((await through({ errorsWithStatus200: true }, JSON.stringify({ access_token: 'x', token_type: 'bearer', error: 'odd' }))).status, 200);
    // Without the quirk the 200 stays (the client always has it: it is one of the harmless deviations).
    assert.equal((await through({ commaSeparatedScope: true }, JSON.stringify({ error: 'authorization_pending' }))).status, 200);
  });

  test('maps error code aliases onto the standard ones', async () => {
    const out = await through({ errorCodeAliases: { authorization_declined: 'access_denied' } }, JSON.stringify({ error: 'authorization_declined', error_description: 'no' }), 400);
    assert.deepEqual(JSON.parse(out.text), { error: 'access_denied', error_description: 'no' });
    assert.equal(out.status, 400);
  });

  test('all GitHub quirks together: form, 200 and token_expired', async () => {
    const github: Quirks = { formEncodedAnswers: true, errorsWithStatus200: true, errorCodeAliases: { token_expired: 'expired_token' } };
    const out = await through(github, 'error=token_expired&error_description=expired', 200, form);
    assert.equal(out.status, 400);
    assert.equal(fields(out.text).error, 'expired_token');
  });

  test('turns a comma-separated scope into a space-separated one', async () => {
    const out = await through({ commaSeparatedScope: true }, JSON.stringify({ access_token: 'x', token_type: 'bearer', scope: 'repo,read:user' }));
    assert.equal(fields(out.text).scope, 'repo read:user');
  });

  test('reads verification_url as verification_uri, never over a real one', async () => {
    const google = await through({ verificationUrlAlias: true }, JSON.stringify({ device_code: 'd', user_code: 'u', verification_url: 'https://www.google.com/device', expires_in: 1800 }));
    assert.equal(fields(google.text).verification_uri, 'https://www.google.com/device');
    const both = await through({ verificationUrlAlias: true }, JSON.stringify({ verification_uri: 'https://a.example', verification_url: 'https://b.example' }));
    assert.equal(fields(both.text).verification_uri, 'https://a.example');
  });

  test('keeps other headers (a WWW-Authenticate challenge) and the status', async () => {
    const out = await through({ errorsWithStatus200: true }, JSON.stringify({ error: 'invalid_client' }), 401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="x"' });
    assert.equal(out.status, 401);
    assert.equal(out.headers.get('www-authenticate'), 'Basic realm="x"');
  });

  test('passes GET answers (discovery, keys, userinfo, account) and non-JSON answers through unchanged', async () => {
    const get = await through({ formEncodedAnswers: true, errorsWithStatus200: true }, JSON.stringify({ error: 'x' }), 200, undefined, 'GET');
    assert.equal(get.status, 200);
    const html = await through({ errorsWithStatus200: true }, '<html>proxy error</html>', 502, { 'content-type': 'text/html' });
    assert.deepEqual([html.status, html.text, html.type], [502, '<html>proxy error</html>', 'text/html']);
    const empty = await through({ errorsWithStatus200: true }, '', 200, { 'content-type': 'application/json' });
    assert.equal(empty.text, '');
  });
});

describe('harmless deviations, accepted from every provider', () => {
  test('every provider gets them, under its preset\'s own quirks', () => {
    assert.deepEqual(harmlessDeviations, { verificationUrlAlias: true, numbersAsStrings: true, errorsWithStatus200: true });
    assert.deepEqual(withHarmlessDeviations(undefined), harmlessDeviations);
    assert.deepEqual(withHarmlessDeviations({ formEncodedAnswers: true }), { ...harmlessDeviations, formEncodedAnswers: true });
  });

  test('numbers sent as strings become numbers, and each deviation is told in words', async () => {
    const noted: string[] = [];
    const response = await applyResponseQuirks(harmlessDeviations, answering(JSON.stringify({ device_code: 'd', user_code: 'u', verification_url: 'https://idp.example.test/device', expires_in: '1800', interval: '5' })), (deviation) => noted.push(deviation))('https://idp.example.test/device?x=1', { method: 'POST' });
    const body = fields(await response.text());
    assert.deepEqual([body.expires_in, body.interval, body.verification_uri], [1800, 5, 'https://idp.example.test/device']);
    assert.deepEqual(noted, [
      'verification_url instead of verification_uri from https://idp.example.test/device',
      'expires_in as the string "1800" from https://idp.example.test/device',
      'interval as the string "5" from https://idp.example.test/device',
    ]);
  });

  test('an answer none of them touches goes on exactly as it was sent', async () => {
    const sent = '{"access_token":"x",  "token_type":"bearer","expires_in":60}';
    const noted: string[] = [];
    const response = await applyResponseQuirks(harmlessDeviations, answering(sent, 200, { 'content-type': 'application/json;charset=ISO-8859-1' }), (deviation) => noted.push(deviation))('https://idp.example.test/token', { method: 'POST' });
    assert.equal(await response.text(), sent);
    assert.equal(response.headers.get('content-type'), 'application/json;charset=ISO-8859-1');
    assert.deepEqual(noted, []);
  });
});

describe('scopesToSend', () => {
  test('dropped scopes are never sent, whoever asks for them', () => {
    assert.deepEqual(scopesToSend(['openid', 'offline_access', 'email'], { dropScopes: ['offline_access'] }), ['openid', 'email']);
    assert.deepEqual(scopesToSend(['openid', 'offline_access'], undefined), ['openid', 'offline_access']);
  });
});
