import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePastedResponse } from '../../src/oauth/pastedResponse.js';

describe('parsePastedResponse: what a person pasted after the browser could not reach VS Code', () => {
  test('the whole redirected address: its query parameters and path', () => {
    const pasted = parsePastedResponse('http://127.0.0.1:43123/callback?code=abc123XYZ&state=s1&iss=https%3A%2F%2Fidp.example');
    assert.equal(pasted.kind, 'parameters');
    assert.ok(pasted.kind === 'parameters');
    assert.equal(pasted.path, '/callback');
    assert.equal(pasted.parameters.get('code'), 'abc123XYZ');
    assert.equal(pasted.parameters.get('state'), 's1');
    assert.equal(pasted.parameters.get('iss'), 'https://idp.example');
  });

  test('copied with quotes, angle brackets, surrounding blanks or a line break in it', () => {
    for (const text of ['  "http://127.0.0.1:1/callback?code=c0de12&state=s"  ', '<http://127.0.0.1:1/callback?code=c0de12&state=s>', 'http://127.0.0.1:1/callback?code=c0de12\n&state=s']) {
      const pasted = parsePastedResponse(text);
      assert.ok(pasted.kind === 'parameters', text);
      assert.equal(pasted.parameters.get('code'), 'c0de12');
      assert.equal(pasted.parameters.get('state'), 's');
    }
  });

  test('an error response counts as a response', () => {
    const pasted = parsePastedResponse('http://127.0.0.1:1/callback?error=access_denied&state=s');
    assert.ok(pasted.kind === 'parameters');
    assert.equal(pasted.parameters.get('error'), 'access_denied');
  });

  test('a response in the fragment (response_mode=fragment)', () => {
    const pasted = parsePastedResponse('http://127.0.0.1:1/callback#code=frag123&state=s');
    assert.ok(pasted.kind === 'parameters');
    assert.equal(pasted.parameters.get('code'), 'frag123');
  });

  test('just the query, with or without its question mark', () => {
    for (const text of ['?code=q123456&state=s', 'code=q123456&state=s']) {
      const pasted = parsePastedResponse(text);
      assert.ok(pasted.kind === 'parameters', text);
      assert.equal(pasted.path, undefined);
      assert.equal(pasted.parameters.get('code'), 'q123456');
    }
  });

  test('a bare code', () => {
    assert.deepEqual(parsePastedResponse(' Xk2-9fG_aa.bb~cc '), { kind: 'code', code: 'Xk2-9fG_aa.bb~cc' });
  });

  test('refuses what is no response, saying why', () => {
    for (const text of ['', '   ', 'http://127.0.0.1:1/callback', 'https://idp.example/authorize?client_id=x&state=s', 'state=s&foo=bar', 'abc', 'two words here']) {
      const pasted = parsePastedResponse(text);
      assert.equal(pasted.kind, 'unrecognized', JSON.stringify(text));
      assert.ok(pasted.kind === 'unrecognized' && pasted.reason.length > 10);
    }
  });
});
