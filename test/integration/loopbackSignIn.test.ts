import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadCallbackPages } from '../../src/oauth/callbackPages.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { OAuthError } from '../../src/oauth/errors.js';
import { signInWithLoopback } from '../../src/oauth/loopback.js';
import { startTestIdp, type AuthorizeResult, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { portClosed } from '../support/net.js';

const logger = captureLogger();

const pages = loadCallbackPages(join(__dirname, '../../media'));
const scopes = ['openid', 'profile', 'email', 'offline_access'];


function redirectPort(authorizeUrl: string): number {
  return Number(new URL(new URL(authorizeUrl).searchParams.get('redirect_uri')!).port);
}

describe('loopback sign-in (authorization code + PKCE) against oidc-provider', () => {
  let idp: TestIdp;
  let client: OAuthClient;

  before(async () => {
    idp = await startTestIdp();
    client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger });
  });
  after(() => idp.close());

  it('signs in when the user approves, and the browser page names the account without echoing the code', async () => {
    const browsing: Promise<AuthorizeResult>[] = [];
    let authorizeUrl = '';
    const result = await signInWithLoopback(client, {
      logger,
      scopes,
      pages,
      openBrowser: async (url) => {
        authorizeUrl = url;
        browsing.push(idp.authorize(url, { decision: 'approve' }));
        return true;
      },
    });
    assert.equal(result.identity.label, 'demo');
    assert.equal(result.identity.subject, 'demo-user');
    assert.ok(result.tokens.accessToken && result.tokens.refreshToken && result.tokens.idToken);
    assert.equal((await idp.userinfo(result.tokens.accessToken)).status, 200);

    const sent = new URL(authorizeUrl).searchParams;
    assert.equal(sent.get('code_challenge_method'), 'S256');
    assert.ok(sent.get('code_challenge') && sent.get('state') && sent.get('nonce'));
    assert.match(sent.get('redirect_uri')!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);

    const [browser] = await Promise.all(browsing);
    assert.ok(browser);
    assert.equal(browser.status, 200);
    assert.match(browser.body!, /demo/);
    const code = new URL(browser.callbackUrl).searchParams.get('code')!;
    assert.ok(code.length > 10);
    assert.ok(!browser.body!.includes(code), 'the page must not echo the code');
    assert.ok(await portClosed(redirectPort(authorizeUrl)), 'the callback server closes after success');
  });

  it('reports a denial at the IdP as "denied" and shows a failure page', async () => {
    const browsing: Promise<AuthorizeResult>[] = [];
    const error = await signInWithLoopback(client, {
      logger,
      scopes,
      pages,
      openBrowser: async (url) => {
        browsing.push(idp.authorize(url, { decision: 'deny' }));
        return true;
      },
    }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError);
    assert.equal(error.kind, 'denied');
    const [browser] = await Promise.all(browsing);
    assert.ok(browser);
    assert.equal(browser.status, 400);
    assert.match(browser.body!, /denied/i);
  });

  it('ignores a callback with the wrong state and still completes with the real one', async () => {
    const browsing: Promise<AuthorizeResult>[] = [];
    const result = await signInWithLoopback(client, {
      logger,
      scopes,
      pages,
      openBrowser: async (url) => {
        const redirect = new URL(new URL(url).searchParams.get('redirect_uri')!);
        redirect.searchParams.set('code', 'forged-code');
        redirect.searchParams.set('state', 'not-the-state');
        const forged = await fetch(redirect);
        assert.equal(forged.status, 400);
        browsing.push(idp.authorize(url, { decision: 'approve' }));
        return true;
      },
    });
    assert.equal(result.identity.label, 'demo');
    await Promise.all(browsing);
  });

  it('refuses an authorization response from another issuer (RFC 9207 iss)', async () => {
    const browsing: Promise<Response>[] = [];
    const error = await signInWithLoopback(client, {
      logger,
      scopes,
      pages,
      openBrowser: async (url) => {
        browsing.push(
          idp.authorize(url, { decision: 'approve', deliver: false }).then(({ callbackUrl }) => {
            const tampered = new URL(callbackUrl);
            assert.ok(tampered.searchParams.get('iss'), 'the test IdP sends iss');
            tampered.searchParams.set('iss', 'https://attacker.example/');
            return fetch(tampered);
          }),
        );
        return true;
      },
    }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError);
    assert.equal(error.kind, 'invalid_response');
    assert.match(error.message, /issuer/);
    const [page] = await Promise.all(browsing);
    assert.equal(page?.status, 400);
  });

  it('stops at once on abort and closes the port', async () => {
    const controller = new AbortController();
    let port = 0;
    const pending = signInWithLoopback(client, {
      logger,
      scopes,
      pages,
      signal: controller.signal,
      openBrowser: async (url) => {
        port = redirectPort(url);
        setTimeout(() => controller.abort(), 20);
        return true;
      },
    });
    const error = await pending.catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError);
    assert.equal(error.kind, 'cancelled');
    assert.ok(port > 0);
    assert.ok(await portClosed(port), 'the callback server is closed after abort');
  });

  it('times out when the browser never comes back, and closes the port', async () => {
    let port = 0;
    const error = await signInWithLoopback(client, {
      logger,
      scopes,
      pages,
      timeoutMs: 100,
      openBrowser: async (url) => {
        port = redirectPort(url);
        return true;
      },
    }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError);
    assert.equal(error.kind, 'timeout');
    assert.ok(await portClosed(port));
  });

  it('says so when no browser could be opened', async () => {
    const error = await signInWithLoopback(client, { scopes, pages, openBrowser: async () => false }).catch((caught: unknown) => caught);
    assert.ok(error instanceof OAuthError);
    assert.equal(error.kind, 'browser_unavailable');
  });

  it('sends login_hint when an account is named', async () => {
    let authorizeUrl = '';
    const browsing: Promise<AuthorizeResult>[] = [];
    await signInWithLoopback(client, {
      logger,
      scopes,
      pages,
      loginHint: 'demo',
      openBrowser: async (url) => {
        authorizeUrl = url;
        browsing.push(idp.authorize(url, { decision: 'approve' }));
        return true;
      },
    });
    await Promise.all(browsing);
    assert.equal(new URL(authorizeUrl).searchParams.get('login_hint'), 'demo');
  });
});

