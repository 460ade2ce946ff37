import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultScopes, readSettings, type SettingProblem, type SettingsResult } from '../../src/config.js';

/** The shell passes WorkspaceConfiguration.get; here a plain object plays the settings. */
function read(settings: Record<string, unknown>): SettingsResult {
  return readSettings((key) => settings[key]);
}

const valid = { issuer: 'https://login.example.com/realms/dev', clientId: 'vscode-native' };

function problemsOf(result: SettingsResult): SettingProblem[] {
  assert.equal(result.ok, false, 'expected the settings to be refused');
  return result.ok ? [] : result.problems;
}

function settingsOf(result: SettingsResult) {
  if (!result.ok) assert.fail(`expected valid settings, got ${JSON.stringify(result.problems)}`);
  return result.settings;
}

/** The only problem reported is about `setting`; returns its message. */
function onlyProblem(result: SettingsResult, setting: string): string {
  const problems = problemsOf(result);
  assert.deepEqual(problems.map((problem) => problem.setting), [setting]);
  return problems[0]!.message;
}

describe('readSettings', () => {
  test('a minimal valid configuration gets the defaults', () => {
    const settings = settingsOf(read(valid));
    assert.deepEqual(settings, {
      provider: { issuer: valid.issuer, clientId: valid.clientId, scopes: defaultScopes, endpoints: {} },
      flow: 'auto',
      loopbackPort: 0,
    });
  });

  test('a full valid configuration is carried over, trimmed', () => {
    const settings = settingsOf(
      read({
        issuer: '  https://idp.example.test  ',
        clientId: ' app ',
        scopes: [' openid ', 'repo', ''],
        flow: 'device',
        endpoints: { device_authorization_endpoint: 'https://idp.example.test/device', token_endpoint: '' },
        loopbackPort: 53682,
      }),
    );
    assert.equal(settings.provider.issuer, 'https://idp.example.test');
    assert.equal(settings.provider.clientId, 'app');
    assert.deepEqual(settings.provider.scopes, ['openid', 'repo']);
    assert.deepEqual(settings.provider.endpoints, { device_authorization_endpoint: 'https://idp.example.test/device' });
    assert.equal(settings.flow, 'device');
    assert.equal(settings.loopbackPort, 53682);
  });

  test('a missing issuer is reported on oauthAnywhere.issuer', () => {
    assert.match(onlyProblem(read({ clientId: 'app' }), 'oauthAnywhere.issuer'), /issuer/i);
    assert.match(onlyProblem(read({ ...valid, issuer: '   ' }), 'oauthAnywhere.issuer'), /issuer/i);
  });

  test('a missing client id is reported on oauthAnywhere.clientId', () => {
    assert.match(onlyProblem(read({ issuer: valid.issuer }), 'oauthAnywhere.clientId'), /client id/i);
  });

  test('an issuer that is not a URL is reported', () => {
    assert.match(onlyProblem(read({ ...valid, issuer: 'login.example.com' }), 'oauthAnywhere.issuer'), /not a URL/);
  });

  test('a plain http issuer on a non-loopback host is refused with the HTTPS rule', () => {
    assert.match(onlyProblem(read({ ...valid, issuer: 'http://login.example.com' }), 'oauthAnywhere.issuer'), /HTTPS/);
  });

  test('a plain http issuer on a loopback host is allowed', () => {
    for (const issuer of ['http://127.0.0.1:4000', 'http://127.0.0.2:4000/oidc', 'http://localhost:8080/realms/dev', 'http://[::1]:9000']) {
      assert.equal(settingsOf(read({ ...valid, issuer })).provider.issuer, issuer);
    }
  });

  test('an issuer with a query is refused', () => {
    assert.match(onlyProblem(read({ ...valid, issuer: 'https://idp.example.test/?tenant=1' }), 'oauthAnywhere.issuer'), /query/);
  });

  test('an unknown flow value is reported with the allowed values', () => {
    const message = onlyProblem(read({ ...valid, flow: 'implicit' }), 'oauthAnywhere.flow');
    assert.match(message, /implicit/);
    for (const allowed of ['auto', 'loopback', 'device']) assert.ok(message.includes(`"${allowed}"`));
  });

  test('scopes that are not a list of names without spaces are reported', () => {
    for (const scopes of ['openid profile', ['openid profile'], ['openid', 7], {}]) {
      onlyProblem(read({ ...valid, scopes }), 'oauthAnywhere.scopes');
    }
  });

  test('an endpoint that is not a URL is reported on oauthAnywhere.endpoints', () => {
    const message = onlyProblem(read({ ...valid, endpoints: { token_endpoint: 'not a url' } }), 'oauthAnywhere.endpoints');
    assert.match(message, /token_endpoint/);
  });

  test('an http endpoint on a non-loopback host is reported', () => {
    const message = onlyProblem(read({ ...valid, endpoints: { jwks_uri: 'http://idp.example.test/jwks' } }), 'oauthAnywhere.endpoints');
    assert.match(message, /HTTPS/);
  });

  test('an unknown endpoint name is reported with the known ones', () => {
    const message = onlyProblem(read({ ...valid, endpoints: { introspection_endpoint: 'https://idp.example.test/introspect' } }), 'oauthAnywhere.endpoints');
    assert.match(message, /introspection_endpoint/);
    assert.match(message, /device_authorization_endpoint/);
  });

  test('an endpoint that is not a string, or endpoints that are not an object, are reported', () => {
    onlyProblem(read({ ...valid, endpoints: { token_endpoint: 42 } }), 'oauthAnywhere.endpoints');
    onlyProblem(read({ ...valid, endpoints: ['https://idp.example.test/token'] }), 'oauthAnywhere.endpoints');
  });

  test('a port out of range, fractional or not a number is reported', () => {
    for (const loopbackPort of [-1, 65536, 80.5, '8080']) {
      onlyProblem(read({ ...valid, loopbackPort }), 'oauthAnywhere.loopbackPort');
    }
  });

  test('several problems are reported at once, each with its setting', () => {
    const problems = problemsOf(
      read({ issuer: 'http://idp.example.test', flow: 'magic', scopes: 'openid', endpoints: { nope: 'x' }, loopbackPort: 70000 }),
    );
    assert.deepEqual(
      problems.map((problem) => problem.setting).sort(),
      ['oauthAnywhere.clientId', 'oauthAnywhere.endpoints', 'oauthAnywhere.flow', 'oauthAnywhere.issuer', 'oauthAnywhere.loopbackPort', 'oauthAnywhere.scopes'],
    );
    for (const problem of problems) assert.ok(problem.message.length > 20, `a message that says how to fix ${problem.setting}`);
  });
});
