import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultScopes, readSettings, type SettingProblem, type SettingsResult } from '../../src/config.js';
import { entraAudienceScope, exactRedirectPort, presetIds, presets, resolvePreset, type PresetId, type PresetInput, type ResolvedPreset } from '../../src/oauth/presets.js';

function resolved(id: PresetId, input: PresetInput): ResolvedPreset {
  const result = resolvePreset(id, input);
  if (!result.ok) assert.fail(`expected ${id} to resolve, got ${JSON.stringify(result.problems)}`);
  return result.value;
}

function problems(id: PresetId, input: PresetInput): { setting: string; message: string }[] {
  const result = resolvePreset(id, input);
  assert.equal(result.ok, false, `expected ${id} to be refused`);
  return result.ok ? [] : result.problems;
}

function read(settings: Record<string, unknown>): SettingsResult {
  return readSettings((key) => settings[key]);
}

function settingsOf(result: SettingsResult) {
  if (!result.ok) assert.fail(`expected valid settings, got ${JSON.stringify(result.problems)}`);
  return result.settings;
}

function problemsOf(result: SettingsResult): SettingProblem[] {
  assert.equal(result.ok, false, 'expected the settings to be refused');
  return result.ok ? [] : result.problems;
}

describe('presets', () => {
  test('every preset has a unique id and a label; custom is the plain one', () => {
    assert.deepEqual([...presetIds].sort(), ['auth0', 'custom', 'entra', 'github', 'gitlab', 'google', 'keycloak', 'okta']);
    assert.equal(new Set(presets.map((preset) => preset.label)).size, presets.length);
  });

  describe('GitHub', () => {
    test('github.com: fixed endpoints, API host, quirks; device only without a client secret', () => {
      const github = resolved('github', {});
      assert.equal(github.issuer, 'https://github.com');
      assert.deepEqual(github.endpoints, {
        token_endpoint: 'https://github.com/login/oauth/access_token',
        device_authorization_endpoint: 'https://github.com/login/device/code',
      });
      assert.deepEqual(github.flows, ['device']);
      assert.equal(github.quirks.accountEndpoint?.url, 'https://api.github.com/user');
      assert.equal(github.quirks.accountEndpoint?.subjectField, 'id');
      assert.ok(github.quirks.formEncodedAnswers && github.quirks.errorsWithStatus200 && github.quirks.commaSeparatedScope);
      assert.ok(github.quirks.noRevocation && github.quirks.plainOAuth2);
      assert.equal(github.quirks.errorCodeAliases?.token_expired, 'expired_token');
      assert.equal(github.quirks.errorCodeAliases?.device_flow_disabled, 'unauthorized_client');
      assert.equal(github.clientSecret, undefined);
      assert.deepEqual(github.defaultScopes, ['read:user']);
      assert.deepEqual(resolved('github', { domain: 'github.com' }).issuer, 'https://github.com');
    });

    test('a client secret adds the web flow', () => {
      const github = resolved('github', { clientSecret: ' s3cret ' });
      assert.deepEqual(github.flows, ['device', 'loopback']);
      assert.equal(github.endpoints.authorization_endpoint, 'https://github.com/login/oauth/authorize');
      assert.equal(github.clientSecret, 's3cret');
    });

    test('GitHub Enterprise Server: everything on the host, the API under /api/v3', () => {
      const ghes = resolved('github', { domain: 'github.example.com' });
      assert.equal(ghes.issuer, 'https://github.example.com');
      assert.equal(ghes.endpoints.device_authorization_endpoint, 'https://github.example.com/login/device/code');
      assert.equal(ghes.quirks.accountEndpoint?.url, 'https://github.example.com/api/v3/user');
    });
  });

  test('GitLab: gitlab.com or a self-managed base URL, with the device endpoint added', () => {
    const gitlab = resolved('gitlab', {});
    assert.equal(gitlab.issuer, 'https://gitlab.com');
    assert.deepEqual(gitlab.endpoints, { device_authorization_endpoint: 'https://gitlab.com/oauth/authorize_device' });
    assert.deepEqual(gitlab.quirks.dropScopes, ['offline_access']);
    const selfManaged = resolved('gitlab', { domain: 'https://code.example.com/gitlab/' });
    assert.equal(selfManaged.issuer, 'https://code.example.com/gitlab');
    assert.equal(selfManaged.endpoints.device_authorization_endpoint, 'https://code.example.com/gitlab/oauth/authorize_device');
  });

  test('Google: needs the client secret; verification_url and no offline_access', () => {
    const [missing] = problems('google', {});
    assert.equal(missing!.setting, 'clientSecret');
    assert.match(missing!.message, /oauthAnywhere\.clientSecret/);
    const google = resolved('google', { clientSecret: 'GOCSPX-x' });
    assert.equal(google.issuer, 'https://accounts.google.com');
    assert.deepEqual(google.endpoints, {});
    assert.ok(google.quirks.verificationUrlAlias);
    assert.deepEqual(google.quirks.dropScopes, ['offline_access']);
    assert.ok(!google.defaultScopes.includes('offline_access'));
    assert.equal(google.clientSecret, 'GOCSPX-x');
  });

  describe('Microsoft Entra ID', () => {
    const tenant = '72F988BF-86F1-41AF-91AB-2D7CD011DB47';

    test('a tenant id makes the v2.0 issuer; sovereign clouds through the domain', () => {
      assert.equal(resolved('entra', { tenant }).issuer, `https://login.microsoftonline.com/${tenant.toLowerCase()}/v2.0`);
      assert.equal(resolved('entra', { tenant, domain: 'login.microsoftonline.us' }).issuer, `https://login.microsoftonline.us/${tenant.toLowerCase()}/v2.0`);
      const entra = resolved('entra', { tenant });
      assert.equal(entra.quirks.errorCodeAliases?.authorization_declined, 'access_denied');
      assert.ok(entra.quirks.noRevocation);
    });

    test('"consumers" is named by its id, as its metadata does', () => {
      assert.equal(resolved('entra', { tenant: 'consumers' }).issuer, 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0');
    });

    test('common, organizations and domain names are refused with a way out', () => {
      for (const value of ['common', 'organizations', 'contoso.onmicrosoft.com']) {
        const [problem] = problems('entra', { tenant: value });
        assert.equal(problem!.setting, 'tenant');
        assert.match(problem!.message, /tenant\) ID/);
        assert.ok(problem!.message.includes(value));
      }
      assert.match(problems('entra', {})[0]!.message, /needs "OAuth Anywhere: Tenant"/);
    });

    test('the audience becomes the API\'s .default scope', () => {
      assert.deepEqual(resolved('entra', { tenant, audience: 'api://my-api/' }).requiredScopes, ['api://my-api/.default']);
      assert.equal(entraAudienceScope('https://graph.microsoft.com/.default'), 'https://graph.microsoft.com/.default');
      assert.deepEqual(resolved('entra', { tenant }).requiredScopes, []);
    });
  });

  test('Okta: the default authorization server, or a named one', () => {
    assert.equal(resolved('okta', { domain: 'dev-1.okta.com' }).issuer, 'https://dev-1.okta.com/oauth2/default');
    assert.equal(resolved('okta', { domain: 'dev-1.okta.com', authorizationServer: 'aus1abc' }).issuer, 'https://dev-1.okta.com/oauth2/aus1abc');
    assert.equal(problems('okta', { domain: 'dev-1.okta.com', authorizationServer: '../x' })[0]!.setting, 'authorizationServer');
    assert.equal(problems('okta', {})[0]!.setting, 'domain');
  });

  test('Auth0: issuer with its trailing slash; the audience goes on both authorization requests', () => {
    const auth0 = resolved('auth0', { domain: 'tenant.eu.auth0.com', audience: 'https://api.example.com' });
    assert.equal(auth0.issuer, 'https://tenant.eu.auth0.com/');
    assert.deepEqual(auth0.quirks.authorizationParameters, { audience: 'https://api.example.com' });
    assert.deepEqual(auth0.quirks.deviceAuthorizationParameters, { audience: 'https://api.example.com' });
    assert.deepEqual(resolved('auth0', { domain: 'tenant.eu.auth0.com' }).quirks, {});
  });

  test('Keycloak: base URL (with /auth for old versions) and realm', () => {
    assert.equal(resolved('keycloak', { domain: 'sso.example.com', realm: 'dev' }).issuer, 'https://sso.example.com/realms/dev');
    assert.equal(resolved('keycloak', { domain: 'https://sso.example.com/auth/', realm: 'dev' }).issuer, 'https://sso.example.com/auth/realms/dev');
    assert.deepEqual(problems('keycloak', {}).map((problem) => problem.setting), ['domain', 'realm']);
  });

  test('a domain must be https, except on loopback, and not carry a query', () => {
    assert.match(problems('keycloak', { domain: 'http://sso.example.com', realm: 'dev' })[0]!.message, /HTTPS/);
    assert.equal(resolved('keycloak', { domain: 'http://127.0.0.2:8080', realm: 'dev' }).issuer, 'http://127.0.0.2:8080/realms/dev');
    assert.match(problems('okta', { domain: 'https://dev-1.okta.com/?x=1' })[0]!.message, /query/);
    assert.match(problems('okta', { domain: 'https://exa mple.com' })[0]!.message, /neither a host name nor a URL/);
  });

  test('a client secret or audience for a preset that does not use it is pointed out', () => {
    assert.deepEqual(problems('keycloak', { domain: 'sso.example.com', realm: 'dev', clientSecret: 'x' }).map((problem) => problem.setting), ['clientSecret']);
    assert.deepEqual(problems('okta', { domain: 'dev-1.okta.com', audience: 'api' }).map((problem) => problem.setting), ['audience']);
    assert.deepEqual(problems('custom', { clientSecret: 'x' }).map((problem) => problem.setting), ['clientSecret']);
  });
});

describe('readSettings with presets', () => {
  const clientId = 'app';

  test('no preset (or "custom") is exactly the discovery configuration it always was', () => {
    const plain = settingsOf(read({ issuer: 'https://idp.example.test', clientId }));
    assert.deepEqual(plain, settingsOf(read({ preset: 'custom', issuer: 'https://idp.example.test', clientId })));
    assert.deepEqual(plain, { provider: { issuer: 'https://idp.example.test', clientId, scopes: defaultScopes, endpoints: {} }, flow: 'auto', loopbackPort: 0 });
  });

  test('a preset derives the issuer, so the issuer setting may stay empty', () => {
    const settings = settingsOf(read({ preset: 'keycloak', domain: 'sso.example.com', realm: 'dev', clientId }));
    assert.equal(settings.provider.issuer, 'https://sso.example.com/realms/dev');
    assert.deepEqual(settings.preset, { id: 'keycloak', label: 'Keycloak', flows: ['loopback', 'device'] });
    assert.deepEqual(settings.provider.quirks, {});
  });

  test('an issuer that disagrees with the preset is reported; one that agrees is fine', () => {
    const [problem] = problemsOf(read({ preset: 'keycloak', domain: 'sso.example.com', realm: 'dev', issuer: 'https://other.example.com', clientId }));
    assert.equal(problem!.setting, 'oauthAnywhere.issuer');
    assert.match(problem!.message, /Keycloak preset derives https:\/\/sso\.example\.com\/realms\/dev/);
    settingsOf(read({ preset: 'auth0', domain: 't.auth0.com', issuer: 'https://t.auth0.com', clientId }));
  });

  test('every missing preset setting is reported on its own setting, with the client id', () => {
    const found = problemsOf(read({ preset: 'keycloak' }));
    assert.deepEqual(found.map((problem) => problem.setting).sort(), ['oauthAnywhere.clientId', 'oauthAnywhere.domain', 'oauthAnywhere.realm']);
    for (const problem of found) assert.ok(problem.message.includes(problem.setting.replace('oauthAnywhere.', '')) || /client id/i.test(problem.message));
  });

  test('an unknown preset is reported with the known ones', () => {
    const [problem] = problemsOf(read({ preset: 'facebook', clientId }));
    assert.equal(problem!.setting, 'oauthAnywhere.preset');
    for (const id of presetIds) assert.ok(problem!.message.includes(`"${id}"`));
  });

  test('the generic default scopes give way to the preset\'s; chosen scopes are kept', () => {
    assert.deepEqual(settingsOf(read({ preset: 'github', clientId })).provider.scopes, ['read:user']);
    assert.deepEqual(settingsOf(read({ preset: 'github', clientId, scopes: defaultScopes })).provider.scopes, ['read:user']);
    assert.deepEqual(settingsOf(read({ preset: 'github', clientId, scopes: ['repo'] })).provider.scopes, ['repo']);
    assert.deepEqual(settingsOf(read({ preset: 'google', clientId, clientSecret: 's' })).provider.scopes, ['openid', 'profile', 'email']);
  });

  test('Entra\'s audience scope is added to any scopes', () => {
    const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    assert.deepEqual(settingsOf(read({ preset: 'entra', tenant, audience: 'api://x', clientId })).provider.scopes, [...defaultScopes, 'api://x/.default']);
    assert.deepEqual(settingsOf(read({ preset: 'entra', tenant, audience: 'api://x', clientId, scopes: ['openid'] })).provider.scopes, ['openid', 'api://x/.default']);
  });

  test('the preset\'s endpoints, overridden by explicit ones; quirks and secret reach the provider config', () => {
    const settings = settingsOf(read({ preset: 'github', clientId, clientSecret: 'shh', endpoints: { token_endpoint: 'https://proxy.example.com/token' } }));
    assert.equal(settings.provider.endpoints?.token_endpoint, 'https://proxy.example.com/token');
    assert.equal(settings.provider.endpoints?.device_authorization_endpoint, 'https://github.com/login/device/code');
    assert.equal(settings.provider.clientSecret, 'shh');
    assert.ok(settings.provider.quirks?.formEncodedAnswers);
  });

  test('GitHub without a client secret cannot be forced to the browser flow', () => {
    const [problem] = problemsOf(read({ preset: 'github', clientId, flow: 'loopback' }));
    assert.equal(problem!.setting, 'oauthAnywhere.flow');
    assert.match(problem!.message, /oauthAnywhere\.clientSecret/);
    assert.equal(settingsOf(read({ preset: 'github', clientId, flow: 'loopback', clientSecret: 's' })).flow, 'loopback');
    assert.equal(settingsOf(read({ preset: 'github', clientId, flow: 'device' })).flow, 'device');
  });

  test('a client secret is refused for the custom preset and for public-client presets', () => {
    assert.deepEqual(problemsOf(read({ issuer: 'https://idp.example.test', clientId, clientSecret: 'x' })).map((problem) => problem.setting), ['oauthAnywhere.clientSecret']);
    assert.deepEqual(problemsOf(read({ preset: 'okta', domain: 'dev-1.okta.com', clientId, clientSecret: 'x' })).map((problem) => problem.setting), ['oauthAnywhere.clientSecret']);
  });

  test('presets of providers that match redirect URIs exactly use a fixed loopback port, unless one is set', () => {
    assert.equal(exactRedirectPort, 28130);
    assert.equal(settingsOf(read({ preset: 'okta', domain: 'dev-1.okta.com', clientId })).loopbackPort, exactRedirectPort);
    assert.equal(settingsOf(read({ preset: 'gitlab', clientId })).loopbackPort, exactRedirectPort);
    assert.equal(settingsOf(read({ preset: 'okta', domain: 'dev-1.okta.com', clientId, loopbackPort: 5000 })).loopbackPort, 5000);
    assert.equal(settingsOf(read({ preset: 'okta', domain: 'dev-1.okta.com', clientId, loopbackPort: 0 })).preset?.loopbackPort, exactRedirectPort, 'the preset says which port 0 stands for');
    const [problem] = problemsOf(read({ preset: 'gitlab', clientId, loopbackPort: -1 }));
    assert.match(problem!.message, /0 means port 28130, which the GitLab preset needs/);
    assert.match(problemsOf(read({ issuer: 'https://idp.example.test', clientId, loopbackPort: -1 }))[0]!.message, /0 picks any free port/);
    for (const other of [{ preset: 'keycloak', domain: 'sso.example.com', realm: 'dev' }, { preset: 'auth0', domain: 'x.auth0.com' }, { issuer: 'https://idp.example.test' }]) {
      assert.equal(settingsOf(read({ ...other, clientId })).loopbackPort, 0, JSON.stringify(other));
    }
  });

  test('Entra\'s multi-tenant values are refused on oauthAnywhere.tenant', () => {
    const [problem] = problemsOf(read({ preset: 'entra', tenant: 'common', clientId }));
    assert.equal(problem!.setting, 'oauthAnywhere.tenant');
  });
});
