import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Redactor, redactingLogger } from '../../src/oauth/redact.js';
import type { Logger } from '../../src/oauth/types.js';

const jwt = `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"u1"}').toString('base64url')}.sig_Part-1`;

/** Asserts `secret` is gone from the redacted text and a placeholder stands in its place. */
function assertRedacted(text: string, secret: string, redactor = new Redactor()): string {
  assert.ok(text.includes(secret), 'the fixture holds the secret');
  const result = redactor.redact(text);
  assert.ok(!result.includes(secret), `still contains ${secret}: ${result}`);
  assert.match(result, /\[redacted\]/);
  return result;
}

describe('Redactor', () => {
  test('removes remembered secrets wherever they appear, every time', () => {
    const redactor = new Redactor();
    redactor.remember('opaque-token-4711', undefined, 'user-code-XYZW');
    const result = assertRedacted('got opaque-token-4711 then opaque-token-4711 and user-code-XYZW.', 'opaque-token-4711', redactor);
    assert.ok(!result.includes('user-code-XYZW'));
    assert.equal(result, 'got [redacted] then [redacted] and [redacted].');
  });

  test('does not remember very short values, which would redact ordinary words', () => {
    const redactor = new Redactor();
    redactor.remember('a', 'on');
    assert.equal(redactor.redact('a button on a page'), 'a button on a page');
  });

  test('redacts a JWT-shaped string under any name', () => {
    const result = assertRedacted(`the thing is ${jwt}, see`, jwt);
    assert.equal(result, 'the thing is [redacted], see');
  });

  test('redacts a Bearer credential and keeps the scheme', () => {
    const result = assertRedacted('Authorization: Bearer abc.DEF-123~x/y+z==', 'abc.DEF-123~x/y+z');
    assert.match(result, /Bearer \[redacted\]/);
  });

  test('redacts access_token=... in a form body and keeps the other fields', () => {
    const result = assertRedacted('access_token=s3cr3tvalue&token_type=bearer&expires_in=300', 's3cr3tvalue');
    assert.match(result, /token_type=bearer/);
    assert.match(result, /expires_in=300/);
  });

  test('redacts "refresh_token":"..." in JSON', () => {
    assertRedacted('{"access_token":"aaa111bbb","refresh_token":"rt-very-secret","expires_in":60}', 'rt-very-secret');
    assertRedacted('{"access_token":"aaa111bbb","refresh_token":"rt-very-secret","expires_in":60}', 'aaa111bbb');
  });

  test('redacts JSON with spaces around the colon', () => {
    assertRedacted('{ "refresh_token" : "rt-spaced-secret" }', 'rt-spaced-secret');
  });

  test('redacts the code in a redirect query and keeps state', () => {
    const result = assertRedacted('GET /callback?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz123', 'SplxlOBeZQQYbYS6WxSbIA');
    assert.match(result, /state=xyz123/);
  });

  test('redacts a code that is not the first query parameter', () => {
    assertRedacted('http://127.0.0.1:5000/callback?state=xyz&code=AUTHCODE99&iss=https%3A%2F%2Fidp', 'AUTHCODE99');
  });

  test('redacts device_code in a form body and in JSON', () => {
    assertRedacted('grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS&client_id=c', 'GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS');
    assertRedacted('{"device_code":"GmRhmhcxhwAzkoEqiMEg","user_code":"WDJB-MJHT"}', 'GmRhmhcxhwAzkoEqiMEg');
  });

  test('redacts code_verifier and camel-cased field names', () => {
    assertRedacted('code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    assertRedacted('{ accessToken: "camel-secret-1", tokenType: "bearer" }', 'camel-secret-1');
  });

  test('leaves ordinary text untouched', () => {
    const redactor = new Redactor();
    for (const text of [
      'exit code: 1',
      'The process ended with code 127.',
      'Refreshing the session for demo@example.test (expires in 300 s).',
      'token endpoint https://idp.example.test/token answered HTTP 400 (invalid_grant)',
      'Enter the code WDJB-MJHT at https://idp.example.test/device',
      'device_authorization_endpoint is missing',
    ]) {
      assert.equal(redactor.redact(text), text);
    }
  });
});

describe('redactingLogger', () => {
  test('redacts every level before it reaches the sink', () => {
    const lines: string[] = [];
    const sink: Logger = {
      trace: (message) => lines.push(`trace ${message}`),
      debug: (message) => lines.push(`debug ${message}`),
      info: (message) => lines.push(`info ${message}`),
      warn: (message) => lines.push(`warn ${message}`),
      error: (message) => lines.push(`error ${message}`),
    };
    const redactor = new Redactor();
    redactor.remember('remembered-secret');
    const logger = redactingLogger(sink, redactor);
    for (const level of ['trace', 'debug', 'info', 'warn', 'error'] as const) logger[level](`value remembered-secret and ${jwt}`);
    assert.deepEqual(lines, ['trace', 'debug', 'info', 'warn', 'error'].map((level) => `${level} value [redacted] and [redacted]`));
  });
});
