import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseFlow, type Environment, type FlowCapabilities, type FlowSetting } from '../../src/oauth/chooseFlow.js';
import { OAuthError } from '../../src/oauth/errors.js';
import { browserEndedEvent } from '../../src/vscode/interactiveSignIn.js';
import { defaultBrowserCheckSeconds, fallbackFor, planBrowserFallback } from '../../src/vscode/fallbackPlan.js';

const desktop: Environment = { remoteName: undefined, uiKind: 'desktop', extensionKind: 'workspace' };
const sshRemote: Environment = { remoteName: 'ssh-remote', uiKind: 'desktop', extensionKind: 'workspace' };
const codeServer: Environment = { remoteName: '127.0.0.1:8080', uiKind: 'web', extensionKind: 'workspace' };
const both: FlowCapabilities = { authorizationCode: true, deviceGrant: true };
const noDevice: FlowCapabilities = { authorizationCode: true, deviceGrant: false };

function plan(environment: Environment, capabilities: FlowCapabilities, flow: FlowSetting, seconds: unknown) {
  const choice = chooseFlow(environment, capabilities, flow);
  assert.equal(choice.flows[0], 'loopback', 'these rows are about browser sign-ins');
  return planBrowserFallback(choice, capabilities, flow, seconds);
}

describe('planBrowserFallback: when a browser sign-in checks the browser, and where it goes then', () => {
  // [where, IdP, flow setting, browserCheckSeconds, expected check ms, expected fallback]
  const rows: Array<[string, Environment, FlowCapabilities, FlowSetting, unknown, number | undefined, 'device' | 'paste']> = [
    ['desktop, auto, unset: the default check, then the device grant', desktop, both, 'auto', undefined, defaultBrowserCheckSeconds * 1000, 'device'],
    ['desktop, auto, null (the contributed default)', desktop, both, 'auto', null, defaultBrowserCheckSeconds * 1000, 'device'],
    ['desktop, auto, 5 s', desktop, both, 'auto', 5, 5000, 'device'],
    ['desktop, auto, 0 turns the check off', desktop, both, 'auto', 0, undefined, 'device'],
    ['desktop, auto, no device endpoint: paste', desktop, noDevice, 'auto', undefined, defaultBrowserCheckSeconds * 1000, 'paste'],
    ['remote without device endpoint (port forwarding): paste', sshRemote, noDevice, 'auto', undefined, defaultBrowserCheckSeconds * 1000, 'paste'],
    ['flow "loopback", unset: the person chose the browser, no check', codeServer, both, 'loopback', undefined, undefined, 'paste'],
    ['flow "loopback", null: no check', desktop, both, 'loopback', null, undefined, 'paste'],
    ['flow "loopback", 3 s asked for: check, then the device grant the IdP offers', codeServer, both, 'loopback', 3, 3000, 'device'],
    ['flow "loopback", 3 s, IdP without device endpoint: check, then paste', codeServer, noDevice, 'loopback', 3, 3000, 'paste'],
    ['flow "loopback", 0: no check, paste on request', codeServer, both, 'loopback', 0, undefined, 'paste'],
    ['a value that is no number counts as unset', desktop, both, 'auto', '10', defaultBrowserCheckSeconds * 1000, 'device'],
    ['a negative value counts as unset', desktop, both, 'auto', -1, defaultBrowserCheckSeconds * 1000, 'device'],
    ['fractions of a second are kept', desktop, both, 'auto', 0.5, 500, 'device'],
  ];
  for (const [title, environment, capabilities, flow, seconds, checkMs, fallback] of rows) {
    test(title, () => {
      assert.deepEqual(plan(environment, capabilities, flow, seconds), { browserCheckMs: checkMs, fallback });
    });
  }
});

describe('where a browser sign-in goes when it is left, and what its failure means', () => {
  test('a browser sign-in that was left goes to its plan\'s fallback; one without a plan (it started with a code) to the code', () => {
    for (const fallback of ['device', 'paste'] as const) assert.equal(fallbackFor({ browserCheckMs: undefined, fallback }), fallback);
    assert.equal(fallbackFor(undefined), 'device');
  });

  const portTaken = new OAuthError('port_in_use', 'Cannot listen on 127.0.0.1:28130 for the sign-in redirect: the port is in use (EADDRINUSE).');
  const portRefused = new OAuthError('port_unavailable', 'Cannot listen on 127.0.0.1:80 for the sign-in redirect (EACCES).');
  const noBrowser = new OAuthError('browser_unavailable', 'Opening http://127.0.0.1:1 in a browser failed.');
  const denied = new OAuthError('denied', 'The sign-in was declined.');
  const cancel = new OAuthError('cancelled', 'Sign-in was cancelled.');
  // [error, waiting for the address to paste, plan's fallback, event]. A plan falls back to the
  // device grant only when the identity provider offers it (planBrowserFallback).
  const rows: Array<[OAuthError, boolean, 'device' | 'paste', string]> = [
    [cancel, false, 'device', 'cancelled'],
    [cancel, true, 'paste', 'cancelled'],
    [portTaken, false, 'device', 'portUnavailable'],
    [portRefused, false, 'device', 'portUnavailable'],
    // flow "loopback" without a browser check, or no device grant: the port's error stands.
    [portTaken, false, 'paste', 'browserFailed'],
    [portTaken, true, 'paste', 'nothingToPaste'],
    [noBrowser, false, 'device', 'browserUnavailable'],
    [noBrowser, false, 'paste', 'browserFailed'],
    [denied, true, 'paste', 'nothingToPaste'],
    [denied, false, 'paste', 'browserFailed'],
    [denied, false, 'device', 'browserFailed'],
  ];
  for (const [error, awaitingPaste, fallback, type] of rows) {
    test(`${error.reason}${awaitingPaste ? ' while the address to paste is awaited' : ''}, fallback ${fallback}: ${type}`, () => {
      assert.equal(browserEndedEvent(error, { awaitingPaste, fallback }).type, type);
    });
  }
});
