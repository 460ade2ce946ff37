// Every preset against the test IdP dressed up as its provider (test/support/idpQuirks.ts): each
// flow the provider offers signs in through the preset's quirks, the test checks that the quirk was
// really exercised, and that the strict path (the custom preset) still refuses the same answers.
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SessionManager, type AuthSessionChanges } from '../../src/auth/sessionManager.js';
import { readSettings, type ExtensionSettings } from '../../src/config.js';
import { loadCallbackPages } from '../../src/oauth/callbackPages.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithDeviceGrant, type DeviceCodePrompt } from '../../src/oauth/deviceGrant.js';
import { OAuthError } from '../../src/oauth/errors.js';
import { signInWithLoopback } from '../../src/oauth/loopback.js';
import { Redactor } from '../../src/oauth/redact.js';
import type { Clock, SignInResult } from '../../src/oauth/types.js';
import { DEVICE_CODE_GRANT, type Decision } from '../support/idp.js';
import { ENTRA_TEST_TENANT, GITHUB_USER_ID, startQuirkyIdp, type QuirkyIdp } from '../support/idpQuirks.js';
import { fastPolling } from '../support/deviceSessionManager.js';
import { captureLogger } from '../support/logs.js';
import { createSharedSecrets } from '../support/memorySecretStorage.js';
import { movableClock } from '../support/clocks.js';

const logger = captureLogger();
const pages = loadCallbackPages(join(__dirname, '../../media'));
const year = 365 * 24 * 3_600_000;

/** The settings a user would type, read the way the extension reads them. */
function settingsFor(idp: QuirkyIdp, values: Record<string, unknown>): ExtensionSettings {
  const result = readSettings((key) => ({ clientId: idp.clientId, ...values })[key]);
  if (!result.ok) assert.fail(`settings refused: ${JSON.stringify(result.problems)}`);
  return result.settings;
}

function clientFor(idp: QuirkyIdp, values: Record<string, unknown>, clock?: Clock): OAuthClient {
  return new OAuthClient(settingsFor(idp, values).provider, { logger, ...(clock ? { clock } : {}) });
}

/** Device sign-in where the user acts only after the client has polled once (so a pending answer was seen). */
async function deviceSignIn(idp: QuirkyIdp, client: OAuthClient, scopes: readonly string[], decision: Decision = 'approve'): Promise<{ result: SignInResult; prompt: DeviceCodePrompt }> {
  let prompt: DeviceCodePrompt | undefined;
  let settled = false;
  const polled = () => idp.requests.filter((request) => request.grantType === DEVICE_CODE_GRANT).length;
  const before = polled();
  try {
    const result = await signInWithDeviceGrant(client, {
      ...fastPolling,
      logger,
      scopes,
      onPrompt: (shown) => {
        prompt = shown;
        void (async () => {
          while (polled() === before && !settled) await new Promise((resolve) => setTimeout(resolve, 5));
          if (!settled) await idp.approveDevice(shown.userCode, { decision });
          // A sign-in that failed meanwhile (the assertion is about that) leaves nothing to approve.
        })().catch(() => undefined);
      },
    });
    return { result, prompt: prompt! };
  } finally {
    settled = true;
  }
}

async function loopbackSignIn(idp: QuirkyIdp, client: OAuthClient, scopes: readonly string[]): Promise<{ result: SignInResult; authorizeUrl: URL }> {
  let authorizeUrl: URL | undefined;
  const result = await signInWithLoopback(client, {
    logger,
    scopes,
    pages,
    timeoutMs: 10_000,
    openBrowser: async (url) => {
      authorizeUrl = new URL(url);
      void idp.authorize(url).catch(() => undefined);
      return true;
    },
  });
  return { result, authorizeUrl: authorizeUrl! };
}

async function failure(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof OAuthError, `expected an OAuthError, got ${String(error)}`);
  return error;
}


describe('GitHub preset (device flow; web flow with a client secret)', () => {
  let idp: QuirkyIdp;
  const scopes = ['read:user', 'user:email'];
  const settings = () => ({ preset: 'github', domain: idp.issuer, scopes });

  before(async () => {
    // Expired codes are kept, so that an expired code answers token_expired, never "unknown code".
    idp = await startQuirkyIdp('github', { deviceInterval: 0.05, alwaysFormEncoded: true, clientSecret: 'github-web-secret', retainExpiredDeviceCodes: true });
  });
  after(() => idp.close());
  beforeEach(() => {
    idp.quirkOptions.alwaysFormEncoded = true;
    idp.settings.deviceCodeTtl = 600;
    idp.resetCounters();
  });

  it('signs in with a code through form-encoded answers, HTTP 200 errors and comma scopes; the account comes from /api/v3/user', async () => {
    const client = clientFor(idp, settings());
    assert.deepEqual(await client.capabilities(), { authorizationCode: false, deviceGrant: true, revocation: false, userinfo: false });
    const seenBefore = idp.seen.length;
    const { result, prompt } = await deviceSignIn(idp, client, scopes);
    const seen = idp.seen.slice(seenBefore);

    assert.deepEqual(result.identity, { subject: String(GITHUB_USER_ID), label: 'demo' });
    assert.equal(result.tokens.refreshToken, undefined, 'OAuth app tokens come without a refresh token');
    assert.equal(result.tokens.expiresAt, undefined, 'and never expire');
    assert.equal(result.tokens.idToken, undefined);
    assert.deepEqual(result.tokens.scopes, scopes, '"read:user,user:email" parsed as two scopes');
    assert.equal(prompt.verificationUri, new URL('/login/device', idp.issuer).href);
    assert.equal(prompt.verificationUriComplete, undefined);

    const device = seen.filter((request) => request.route === 'device_authorization');
    assert.deepEqual(device.map((request) => [request.path, request.answeredAs, request.params.client_secret]), [['/login/device/code', 'form', undefined]]);
    const polls = seen.filter((request) => request.route === 'token');
    assert.ok(polls.some((poll) => poll.error === 'authorization_pending' && poll.status === 200 && poll.answeredAs === 'form'), 'a pending answer came with HTTP 200, form-encoded');
    assert.ok(polls.every((poll) => poll.path === '/login/oauth/access_token' && poll.accept?.includes('application/json')));
    assert.equal(polls.at(-1)!.status, 200);
    assert.equal(polls.at(-1)!.error, undefined);
    assert.deepEqual(seen.filter((request) => request.route === 'account').map((request) => request.path), ['/api/v3/user']);
    assert.equal(seen.filter((request) => request.route === 'discovery').length, 0, 'GitHub has no discovery, none is tried');
  });

  it('the generic path (custom preset, same endpoints) refuses the form-encoded answer, and reads an error sent with HTTP 200 as that error', async () => {
    const endpoints = {
      token_endpoint: new URL('/login/oauth/access_token', idp.issuer).href,
      device_authorization_endpoint: new URL('/login/device/code', idp.issuer).href,
    };
    const generic = clientFor(idp, { preset: 'custom', issuer: idp.issuer, endpoints, scopes });
    const formError = await failure(signInWithDeviceGrant(generic, { logger, scopes, onPrompt: () => undefined }));
    assert.equal(formError.kind, 'invalid_response');
    assert.equal(idp.seenAt('device_authorization').at(-1)!.answeredAs, 'form');

    // JSON, as github.com answers when asked for it: the first "authorization_pending" comes with 200.
    idp.quirkOptions.alwaysFormEncoded = false;
    const linesBefore = logger.lines.length;
    const seenBefore = idp.seen.length;
    const { result } = await deviceSignIn(idp, generic, scopes);
    const poll = idp.seen.slice(seenBefore).find((request) => request.route === 'token' && request.error === 'authorization_pending')!;
    assert.deepEqual([poll.status, poll.error, poll.answeredAs], [200, 'authorization_pending', 'json']);
    assert.ok(logger.lines.slice(linesBefore).some((line) => /^debug Accepted from the identity provider: an error answer \("authorization_pending"\) with HTTP 200/.test(line)), 'the leniency is logged');
    // Without the preset nothing knows GitHub's /user: the account gets the stable placeholder name.
    assert.equal(result.identity.label, `Account at ${new URL(idp.issuer).host}`);
  });

  it('reads GitHub\'s token_expired (HTTP 200) as an expired code', async () => {
    idp.quirkOptions.announcedDeviceExpiresIn = 900;
    idp.settings.deviceCodeTtl = 1;
    try {
      const client = clientFor(idp, settings());
      const error = await failure(signInWithDeviceGrant(client, { logger, scopes, onPrompt: () => undefined }));
      assert.equal(error.kind, 'expired');
      const last = idp.seenAt('token').at(-1)!;
      assert.deepEqual([last.status, last.error], [200, 'token_expired']);
    } finally {
      delete idp.quirkOptions.announcedDeviceExpiresIn;
    }
  });

  it('with a client secret, signs in through the browser (web flow) and sends the secret only to the token endpoint', async () => {
    const client = clientFor(idp, { ...settings(), clientSecret: 'github-web-secret' });
    assert.equal((await client.capabilities()).authorizationCode, true);
    const seenBefore = idp.seen.length;
    const { result, authorizeUrl } = await loopbackSignIn(idp, client, scopes);
    assert.deepEqual(result.identity, { subject: String(GITHUB_USER_ID), label: 'demo' });
    assert.equal(authorizeUrl.pathname, '/login/oauth/authorize');
    assert.equal(authorizeUrl.searchParams.get('client_secret'), null);
    assert.equal(authorizeUrl.searchParams.get('code_challenge_method'), 'S256');
    const exchange = idp.seen.slice(seenBefore).find((request) => request.route === 'token')!;
    assert.equal(exchange.params.grant_type, 'authorization_code');
    assert.equal(exchange.params.client_secret, 'github-web-secret');
    assert.equal(result.tokens.refreshToken, undefined);
  });

  it('a wrong client secret is reported as a client problem, not a dead session', async () => {
    const client = clientFor(idp, { ...settings(), clientSecret: 'not-the-secret' });
    const error = await failure(loopbackSignIn(idp, client, scopes));
    assert.equal(error.kind, 'misconfigured');
    assert.equal(idp.seenAt('token').at(-1)!.error, 'incorrect_client_credentials');
  });

  it('keeps a session without expiry valid for a year, signs out locally, and drops a session only when GitHub rejects its token', async () => {
    const clock = movableClock();
    const client = clientFor(idp, settings(), clock);
    const events: AuthSessionChanges[] = [];
    const manager = new SessionManager({
      providerId: 'oauth-anywhere',
      client,
      configuredScopes: scopes,
      secrets: createSharedSecrets().window(),
      signIn: async (request) => (await deviceSignIn(idp, client, request.scopes)).result,
      logger,
      redactor: new Redactor(),
      clock,
    });
    manager.onDidChangeSessions((changes) => events.push(changes));
    const session = await manager.createSession([]);
    clock.advance(year);
    const [later] = await manager.getSessions(scopes);
    assert.equal(later?.accessToken, session.accessToken, 'still served, unrefreshed, a year on');
    assert.equal(idp.count('refresh'), 0);

    const accountChecks = idp.seenAt('account').length;
    assert.equal(await manager.reportRejected(session.id), 'kept', 'GitHub still accepts the token: the API\'s 401 was about something else');
    assert.equal(idp.seenAt('account').length, accountChecks + 1);
    assert.equal((await manager.getSessions()).length, 1);

    await idp.revokeAtProvider(session.accessToken);
    assert.equal(await manager.reportRejected(session.id), 'removed');
    assert.deepEqual((await manager.getSessions()).length, 0);
    assert.ok(events.some((change) => change.removed.some((removed) => removed.id === session.id)), 'removed was fired');

    const second = await manager.createSession([]);
    idp.resetCounters();
    const seenRevocations = idp.seenAt('revocation').length;
    await manager.removeSession(second.id);
    assert.equal(idp.count('revocation'), 0, 'GitHub has no revocation for public clients: sign-out is local');
    assert.equal(idp.seenAt('revocation').length, seenRevocations);
    assert.equal((await manager.listSessions()).length, 0);
    manager.dispose();
  });
});

describe('GitLab preset', () => {
  let idp: QuirkyIdp;
  before(async () => {
    idp = await startQuirkyIdp('gitlab', { deviceInterval: 0.05 });
  });
  after(() => idp.close());

  const client = () => clientFor(idp, { preset: 'gitlab', domain: idp.issuer });

  it('signs in with a code at /oauth/authorize_device, which discovery does not list', async () => {
    const metadata = await (await fetch(new URL('/.well-known/openid-configuration', idp.issuer))).json() as Record<string, unknown>;
    assert.equal(metadata.device_authorization_endpoint, undefined);
    const gitlab = client();
    assert.equal((await gitlab.capabilities()).deviceGrant, true);
    const { result } = await deviceSignIn(idp, gitlab, gitlab.config.scopes);
    assert.equal(result.identity.label, 'demo');
    const [device] = idp.seenAt('device_authorization');
    assert.equal(device!.path, '/oauth/authorize_device');
    assert.deepEqual(device!.params.scope!.split(' '), ['openid', 'profile', 'email'], 'offline_access is not a GitLab scope');
    assert.ok(result.tokens.refreshToken, 'GitLab hands out a refresh token anyway');
    assert.ok(idp.seenAt('token').some((answer) => answer.status === 200), 'an answer with the extra created_at was accepted');
  });

  it('signs in through the browser, and the refresh token rotates', async () => {
    const gitlab = client();
    const { result, authorizeUrl } = await loopbackSignIn(idp, gitlab, gitlab.config.scopes);
    assert.equal(result.identity.label, 'demo');
    assert.equal(authorizeUrl.searchParams.get('scope'), 'openid profile email');
    const { tokens: refreshed } = await gitlab.refresh(result.tokens);
    assert.ok(refreshed.refreshToken && refreshed.refreshToken !== result.tokens.refreshToken);
  });
});

describe('Google preset', () => {
  let idp: QuirkyIdp;
  const secret = 'GOCSPX-test-not-confidential';
  before(async () => {
    idp = await startQuirkyIdp('google', { deviceInterval: 0.05, clientSecret: secret });
  });
  after(() => idp.close());

  const client = (clientSecret = secret) => clientFor(idp, { preset: 'google', domain: idp.issuer, clientSecret });

  it('signs in with a code: verification_url, the secret on every token request, no offline_access yet a refresh token', async () => {
    const google = client();
    const seenBefore = idp.seen.length;
    const { result, prompt } = await deviceSignIn(idp, google, google.config.scopes);
    const seen = idp.seen.slice(seenBefore);
    assert.equal(result.identity.label, 'demo');
    assert.ok(prompt.verificationUri.startsWith(idp.issuer), 'read from verification_url');
    assert.equal(prompt.verificationUriComplete, undefined);
    const device = seen.find((request) => request.route === 'device_authorization')!;
    assert.ok(!device.params.scope!.split(' ').includes('offline_access'));
    assert.equal(device.params.client_secret, undefined, 'Google documents only client_id and scope there');
    assert.ok(seen.filter((request) => request.route === 'token').every((poll) => poll.params.client_secret === secret));
    assert.ok(result.tokens.refreshToken);

    const { tokens: refreshed } = await google.refresh(result.tokens);
    assert.ok(refreshed.accessToken);
    assert.equal(await google.revoke(refreshed.refreshToken!, 'refresh_token'), true);
  });

  it('signs in through the browser', async () => {
    const google = client();
    const { result, authorizeUrl } = await loopbackSignIn(idp, google, google.config.scopes);
    assert.equal(result.identity.label, 'demo');
    assert.equal(authorizeUrl.searchParams.get('scope'), 'openid profile email');
    assert.ok(result.tokens.refreshToken);
  });

  it('without the preset: offline_access and the missing secret are refused; verification_url is read all the same', async () => {
    const generic = clientFor(idp, { preset: 'custom', issuer: idp.issuer });
    const scopeError = await failure(signInWithDeviceGrant(generic, { logger, scopes: generic.config.scopes, onPrompt: () => undefined }));
    assert.equal(scopeError.kind, 'misconfigured');
    assert.equal(scopeError.details.oauthError, 'invalid_scope');

    const noSecret = new OAuthClient({ ...client().config, clientSecret: undefined }, { logger });
    const secretError = await failure(deviceSignIn(idp, noSecret, ['openid', 'email']));
    assert.equal(secretError.details.oauthError, 'invalid_request');
    assert.equal(idp.seenAt('token').at(-1)!.rejected, 'no client secret');

    // Google's draft-era verification_url is a harmless deviation: every provider gets it read.
    const linesBefore = logger.lines.length;
    const withoutQuirks = new OAuthClient({ ...client().config, quirks: undefined }, { logger });
    const { prompt } = await deviceSignIn(idp, withoutQuirks, ['openid', 'email']);
    assert.ok(prompt.verificationUri.startsWith(idp.issuer), 'read from verification_url');
    assert.ok(logger.lines.slice(linesBefore).some((line) => /^debug Accepted from the identity provider: verification_url instead of verification_uri/.test(line)));
  });

});

describe('Microsoft Entra ID preset', () => {
  let idp: QuirkyIdp;
  const audience = 'api://oauth-anywhere-test';
  before(async () => {
    idp = await startQuirkyIdp('entra', { deviceInterval: 0.05 });
  });
  after(() => idp.close());

  const origin = () => new URL(idp.issuer).origin;
  const client = () => clientFor(idp, { preset: 'entra', domain: origin(), tenant: ENTRA_TEST_TENANT.toUpperCase(), audience });

  it('derives the tenant issuer and signs in with a code; the audience becomes a .default scope', async () => {
    const entra = client();
    assert.equal(entra.issuer.href, idp.issuer);
    assert.deepEqual(await entra.capabilities(), { authorizationCode: true, deviceGrant: true, revocation: false, userinfo: true });
    const { result, prompt } = await deviceSignIn(idp, entra, entra.config.scopes);
    assert.equal(result.identity.label, 'demo', 'named from the ID token: Entra\'s userinfo wants a Graph token');
    assert.equal(idp.count('userinfo'), 0);
    assert.equal(prompt.verificationUriComplete, undefined);
    assert.ok(idp.seenAt('device_authorization').at(-1)!.params.scope!.split(' ').includes(`${audience}/.default`));
    const { tokens: refreshed } = await entra.refresh(result.tokens);
    assert.ok(refreshed.refreshToken && refreshed.refreshToken !== result.tokens.refreshToken, 'rotated');
  });

  it('reads authorization_declined as a denial; the strict path does not', async () => {
    const denied = await failure(deviceSignIn(idp, client(), ['openid', 'profile'], 'deny'));
    assert.equal(denied.kind, 'denied');
    assert.equal(idp.seenAt('token').at(-1)!.error, 'authorization_declined');

    const strict = clientFor(idp, { preset: 'custom', issuer: idp.issuer });
    const raw = await failure(deviceSignIn(idp, strict, ['openid', 'profile'], 'deny'));
    assert.equal(raw.kind, 'idp_error');
    assert.equal(raw.details.oauthError, 'authorization_declined');
  });

  it('signs in through the browser and signs out locally (no revocation endpoint)', async () => {
    const entra = client();
    const manager = new SessionManager({
      providerId: 'oauth-anywhere',
      client: entra,
      configuredScopes: entra.config.scopes,
      secrets: createSharedSecrets().window(),
      signIn: async (request) => (await loopbackSignIn(idp, entra, request.scopes)).result,
      logger,
      redactor: new Redactor(),
    });
    const session = await manager.createSession([]);
    assert.equal(session.account.label, 'demo');
    assert.ok(idp.seenAt('authorization').at(-1)!.params.scope!.split(' ').includes(`${audience}/.default`));
    idp.resetCounters();
    await manager.removeSession(session.id);
    assert.equal(idp.count('revocation'), 0);
    assert.equal(idp.seenAt('revocation').length, 0);
    manager.dispose();
  });
});

describe('Okta preset', () => {
  let idp: QuirkyIdp;
  before(async () => {
    idp = await startQuirkyIdp('okta', { deviceInterval: 0.05 });
  });
  after(() => idp.close());
  const client = () => clientFor(idp, { preset: 'okta', domain: new URL(idp.issuer).origin });

  it('finds the default authorization server and signs in with a code and through the browser', async () => {
    const okta = client();
    assert.equal(okta.issuer.href, idp.issuer);
    assert.match(idp.issuer, /\/oauth2\/default$/);
    const device = await deviceSignIn(idp, okta, okta.config.scopes);
    assert.equal(device.result.identity.label, 'demo');
    const browser = await loopbackSignIn(idp, okta, okta.config.scopes);
    assert.equal(browser.result.identity.label, 'demo');
    assert.ok(browser.result.tokens.refreshToken);
    idp.resetCounters();
    assert.equal(await okta.revoke(browser.result.tokens.refreshToken, 'refresh_token'), true);
    assert.equal(idp.count('revocation'), 1);
  });
});

describe('Auth0 preset', () => {
  let idp: QuirkyIdp;
  const audience = 'https://api.example.test/';
  before(async () => {
    idp = await startQuirkyIdp('auth0', { deviceInterval: 0.05 });
  });
  after(() => idp.close());
  const client = (withAudience = true) => clientFor(idp, { preset: 'auth0', domain: new URL(idp.issuer).origin, ...(withAudience ? { audience } : {}) });

  it('keeps the issuer\'s trailing slash and sends the audience with the code request', async () => {
    const auth0 = client();
    assert.equal(auth0.config.issuer, idp.issuer);
    assert.ok(idp.issuer.endsWith('/'));
    assert.equal((await auth0.metadata()).issuer, idp.issuer);
    const { result } = await deviceSignIn(idp, auth0, auth0.config.scopes);
    assert.equal(result.identity.label, 'demo', 'the ID token with the slashed issuer was accepted');
    assert.equal(idp.seenAt('device_authorization').at(-1)!.params.audience, audience);
  });

  it('sends the audience with the browser sign-in', async () => {
    const { result, authorizeUrl } = await loopbackSignIn(idp, client(), client().config.scopes);
    assert.equal(result.identity.label, 'demo');
    assert.equal(authorizeUrl.searchParams.get('audience'), audience);
    assert.equal(idp.seenAt('authorization').at(-1)!.params.audience, audience);
  });

  it('without an audience, this IdP (in Auth0 mode) refuses both requests', async () => {
    const bare = client(false);
    const device = await failure(signInWithDeviceGrant(bare, { logger, scopes: bare.config.scopes, onPrompt: () => undefined }));
    assert.equal(device.details.oauthError, 'invalid_request');
    assert.equal(idp.seenAt('device_authorization').at(-1)!.rejected, 'no audience');
    const browser = await failure(loopbackSignIn(idp, bare, bare.config.scopes));
    assert.equal(browser.details.oauthError, 'invalid_request');
  });
});

describe('Keycloak preset', () => {
  let idp: QuirkyIdp;
  before(async () => {
    idp = await startQuirkyIdp('keycloak', { deviceInterval: 0.05, realm: 'dev' });
  });
  after(() => idp.close());

  it('finds the realm and signs in with a code and through the browser', async () => {
    const keycloak = clientFor(idp, { preset: 'keycloak', domain: new URL(idp.issuer).origin, realm: 'dev' });
    assert.equal(keycloak.issuer.href, idp.issuer);
    assert.match(idp.issuer, /\/realms\/dev$/);
    const device = await deviceSignIn(idp, keycloak, keycloak.config.scopes);
    assert.equal(device.result.identity.label, 'demo');
    const browser = await loopbackSignIn(idp, keycloak, keycloak.config.scopes);
    assert.equal(browser.result.identity.label, 'demo');
    assert.ok(browser.result.tokens.refreshToken);
  });
});
