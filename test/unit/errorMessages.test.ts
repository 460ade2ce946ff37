import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { OAuthErrorKind } from '../../src/oauth/errors.js';
import { explainedKinds, signInFailureMessage, type Translate } from '../../src/vscode/errorMessages.js';

/** vscode.l10n.t's formatting without VS Code: {0}, {1}, ... replaced by the arguments. */
const t: Translate = (message, ...args) => message.replace(/\{(\d+)\}/g, (_, index: string) => String(args[Number(index)]));

/** The kinds as errors.ts declares them, read from its source: a kind added there must get a message here. */
function declaredKinds(): OAuthErrorKind[] {
  const source = readFileSync(join(__dirname, '../../src/oauth/errors.ts'), 'utf8');
  const union = /export type OAuthErrorKind =([\s\S]*?);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/'([a-z_]+)'/g)].map((match) => match[1] as OAuthErrorKind);
}

describe('signInFailureMessage: every error kind of the core says what happened and what to do', () => {
  const kinds = declaredKinds();

  test('errors.ts declares the kinds this test walks', () => {
    assert.ok(kinds.length >= 11, `found ${kinds.join(', ')}`);
    assert.ok(kinds.includes('cancelled') && kinds.includes('browser_unavailable'));
  });

  test('every declared kind but "cancelled" has a message, and no message exists for an undeclared kind', () => {
    assert.deepEqual([...explainedKinds].sort(), kinds.filter((kind) => kind !== 'cancelled').sort());
  });

  for (const kind of declaredKinds().filter((k) => k !== 'cancelled')) {
    test(`${kind}: the headline, the core's own detail, the advice, Troubleshoot and Show Log`, () => {
      const detail = `DETAIL-${kind}`;
      const failure = signInFailureMessage(kind, detail, t);
      assert.ok(failure);
      assert.match(failure.message, /^OAuth Anywhere sign-in failed: /);
      const [, rest] = failure.message.split('OAuth Anywhere sign-in failed: ');
      const [happened, advice] = rest!.split(` ${detail} `);
      assert.ok(happened && happened.length > 15, `says what happened: ${failure.message}`);
      assert.ok(advice && advice.length > 10, `says what to do: ${failure.message}`);
      assert.ok(failure.actions.includes('troubleshoot'), 'offers Troubleshoot');
      assert.equal(failure.actions.at(-1), 'showLog', 'offers Show Log, last');
    });
  }

  test('the messages differ per kind (no catch-all text)', () => {
    const texts = explainedKinds.map((kind) => signInFailureMessage(kind, 'X', t)!.message);
    assert.equal(new Set(texts).size, texts.length);
  });

  test('settings problems offer Configure first', () => {
    assert.deepEqual(signInFailureMessage('misconfigured', 'd', t)!.actions, ['configure', 'troubleshoot', 'showLog']);
    assert.deepEqual(signInFailureMessage('unsupported', 'd', t)!.actions, ['configure', 'troubleshoot', 'showLog']);
    assert.deepEqual(signInFailureMessage('network', 'd', t)!.actions, ['troubleshoot', 'showLog']);
  });

  test('a cancel is no failure: no notification', () => {
    assert.equal(signInFailureMessage('cancelled', 'Sign-in was cancelled.', t), undefined);
  });

  test('an error from outside the core still gets a message with the actions', () => {
    const failure = signInFailureMessage(undefined, 'boom', t);
    assert.ok(failure);
    assert.match(failure.message, /boom/);
    assert.deepEqual(failure.actions, ['troubleshoot', 'showLog']);
  });

  test('the translation function is used for every part', () => {
    const marked: Translate = (message, ...args) => `«${t(message, ...args)}»`;
    const failure = signInFailureMessage('denied', 'D', marked)!;
    assert.equal(failure.message.match(/«/g)?.length, 3, failure.message);
  });
});
