// The `oauth-anywhere` command as real processes against a window's endpoint (the terminal broker
// over a SessionManager signed in at the real test IdP): tokens, exit codes, consent, sign-in from
// a terminal and Ctrl+C, the window's secret, and twenty tools at once on an expired session.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ConsentAnswer } from '../../src/terminal/consent.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { commandPath, runTool, startTool } from '../support/terminalCommand.js';
import { openTestWindow, type TestWindow } from '../support/terminalWindow.js';

describe('oauth-anywhere token and status, as processes against a window', () => {
  let idp: TestIdp;
  const windows: TestWindow[] = [];
  const open = async (options: Parameters<typeof openTestWindow>[1] = {}) => {
    const window = await openTestWindow(idp, options);
    windows.push(window);
    return window;
  };
  const tool = (window: TestWindow, args: string[], extra?: Record<string, string | undefined>) => runTool(commandPath(), args, { env: window.env(extra) });

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
  });
  after(async () => {
    for (const window of windows) await window.close();
    await idp.close();
  });
  beforeEach(() => {
    idp.settings.accessTokenTtl = 3600;
    idp.resetCounters();
  });

  it('prints a token the identity provider accepts, and only on stdout', async () => {
    const window = await open();
    await window.manager.createSession([]);
    const run = await tool(window, ['token']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    const token = run.stdout.trim();
    assert.equal(run.stdout, `${token}\n`);
    assert.equal((await idp.userinfo(token)).status, 200);
    assert.equal(window.questions.length, 1, 'consent asked once');
    assert.equal(window.questions[0]!.kind, 'token');
    assert.equal(window.questions[0]!.account, 'demo');
    assert.ok(window.logLines.every((line) => !line.includes(token)), 'the token is in no log line');
  });

  it('--json adds expiry, scopes and account', async () => {
    const window = await open();
    await window.manager.createSession([]);
    const before = Date.now();
    const run = await tool(window, ['token', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const answer = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(answer.token_type, 'Bearer');
    assert.equal(answer.account, 'demo');
    assert.equal(answer.provider, 'oauth-anywhere');
    assert.deepEqual(String(answer.scope).split(' ').sort(), ['email', 'offline_access', 'openid', 'profile']);
    const expiresAt = Date.parse(String(answer.expires_at));
    assert.ok(expiresAt > before + 3500_000 && expiresAt <= Date.now() + 3600_000, `expires_at ${String(answer.expires_at)}`);
    assert.ok(Number(answer.expires_in) > 3500 && Number(answer.expires_in) <= 3600);
    assert.equal((await idp.userinfo(String(answer.access_token))).status, 200);
  });

  it('--header prints the Authorization header line, for curl -H @-', async () => {
    const window = await open();
    const session = await window.manager.createSession([]);
    const run = await tool(window, ['token', '--header']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `Authorization: Bearer ${session.accessToken}\n`);
  });

  it("the identity provider's text reaches the terminal with its control characters shown, not acted on", async () => {
    const window = await open();
    const hostile = 'no \u001b]8;;https://evil.example/\u0007click here\u001b]8;;\u0007 \u001b[2K\u001b[1Afake \u009b31m';
    idp.injectFault('device_authorization', { kind: 'status', status: 400, body: JSON.stringify({ error: 'invalid_request', error_description: hostile }) });
    try {
      const run = await tool(window, ['token']);
      assert.equal(run.code, 1, run.stderr);
      // The core already drops control characters from the IdP's text; the command would show any left as escapes.
      assert.match(run.stderr, /It said: "no .*evil\.example\/.*click here/, run.stderr);
      // eslint-disable-next-line no-control-regex -- looking for control characters
      assert.doesNotMatch(run.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no raw control character but the line ends');
    } finally {
      idp.clearFaults();
    }
  });

  it('status names providers, accounts and expiry, and no secret', async () => {
    const window = await open({ gitHosts: ['git.example.com'] });
    const session = await window.manager.createSession([]);
    const run = await tool(window, ['status']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^OAuth Anywhere \(oauth-anywhere\)\n {2}demo: token expires \d{4}-/);
    assert.match(run.stdout, /git hosts: https:\/\/git\.example\.com/);
    const json = await tool(window, ['status', '--json']);
    const stored = (await window.manager.store.all())[0]!;
    for (const secret of [session.accessToken, stored.tokens.refreshToken!, stored.tokens.idToken!]) {
      assert.ok(!run.stdout.includes(secret) && !json.stdout.includes(secret), 'no token in the status');
    }
    assert.equal(window.questions.length, 0, 'status needs no consent');
  });

  it('exit codes: 3 not signed in with --no-sign-in, 2 usage, 4 denied (remembered), 5 outside VS Code or window gone', async () => {
    const denied = await open({ consent: () => 'deny' });
    const notSignedIn = await tool(denied, ['token', '--no-sign-in']);
    assert.equal(notSignedIn.code, 3);
    assert.match(notSignedIn.stderr, /^oauth-anywhere: Not signed in to OAuth Anywhere/);
    assert.equal(idp.count('device_authorization'), 0, 'no sign-in started');

    assert.equal((await tool(denied, ['token', '--bogus'])).code, 2);
    assert.equal((await tool(denied, ['frobnicate'])).code, 2);
    assert.equal((await tool(denied, ['token', '--provider', 'nope'])).code, 2);

    await denied.manager.createSession([]);
    const refused = await tool(denied, ['token']);
    assert.equal(refused.code, 4);
    assert.equal(refused.stdout, '');
    const again = await tool(denied, ['token']);
    assert.equal(again.code, 4);
    assert.match(again.stderr, /Reset Terminal Access/);
    assert.equal(denied.questions.length, 1, 'a Deny is remembered in the window');

    const outside = await runTool(commandPath(), ['token'], { env: { PATH: process.env.PATH, OAUTH_ANYWHERE_NODE: process.execPath } });
    assert.equal(outside.code, 5);
    assert.match(outside.stderr, /integrated terminals of a VS Code window/);

    const closing = await open();
    const env = closing.env();
    await closing.close();
    const gone = await runTool(commandPath(), ['token'], { env });
    assert.equal(gone.code, 5);
    assert.match(gone.stderr, /The VS Code window that opened this terminal is gone/);
  });

  it('terminal access turned off: refused with the reason, exit 4', async () => {
    const window = await open({ access: () => ({ allowed: false, reason: 'Terminal access is turned off (test).' }) });
    await window.manager.createSession([]);
    const run = await tool(window, ['token']);
    assert.equal(run.code, 4);
    assert.equal(run.stderr, 'oauth-anywhere: Terminal access is turned off (test).\n');
    assert.equal(window.questions.length, 0);
  });

  it('without the window\'s secret: refused before anything else, exit 4', async () => {
    const window = await open();
    await window.manager.createSession([]);
    idp.resetCounters();
    const wrong = await tool(window, ['token'], { OAUTH_ANYWHERE_TERMINAL_SECRET: 'not-the-secret' });
    assert.equal(wrong.code, 4);
    assert.equal(wrong.stdout, '');
    assert.match(wrong.stderr, /does not carry this VS Code window's terminal secret/);
    const none = await tool(window, ['token'], { OAUTH_ANYWHERE_TERMINAL_SECRET: undefined });
    assert.equal(none.code, 5, 'no secret at all: not a terminal of a window');
    assert.equal(window.questions.length, 0, 'no consent asked');
    assert.equal(idp.requests.length, 0, 'no request reached the identity provider');
    assert.ok(window.logLines.some((line) => /refused a request without this window's secret/.test(line)));
  });

  it('no session: the window signs in and the tool says where to look; the token follows', async () => {
    const window = await open();
    const run = await tool(window, ['token']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, 'oauth-anywhere: Not signed in to OAuth Anywhere: sign in in the VS Code window (its notification shows how). Ctrl+C cancels.\n');
    assert.equal((await idp.userinfo(run.stdout.trim())).status, 200);
    assert.deepEqual(window.signIns, ['signed in']);
    assert.equal(window.questions[0]!.account, undefined, 'consent came first, before any account existed');
  });

  it('Ctrl+C while the window signs in: exit 130 and the sign-in stops polling', async () => {
    const prompts: string[] = [];
    const window = await open({ onPrompt: (prompt) => prompts.push(prompt.userCode) });
    const running = startTool(commandPath(), ['token'], { env: window.env() });
    await running.stderrLine(/sign in in the VS Code window/);
    while (idp.count('token', 'urn:ietf:params:oauth:grant-type:device_code') < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    running.kill('SIGINT');
    const run = await running.done;
    assert.equal(run.code, 130);
    assert.match(run.stderr, /oauth-anywhere: cancelled\.\n$/);
    assert.equal(run.stdout, '');
    while (!window.signIns.length) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.match(window.signIns[0]!, /^cancelled:/);
    const polls = idp.count('token', 'urn:ietf:params:oauth:grant-type:device_code');
    await new Promise((resolve) => setTimeout(resolve, 200)); // ten polling intervals
    assert.equal(idp.count('token', 'urn:ietf:params:oauth:grant-type:device_code'), polls, 'no poll after the cancel');
    assert.equal(prompts.length, 1);
    assert.equal((await window.manager.listSessions()).length, 0);
  });

  it('the consent modal names the scopes the token carries; before a sign-in, those it asks for', async () => {
    const window = await open({ consent: () => 'once' });
    const signedIn = await tool(window, ['token', '--json', '--scopes', 'openid']);
    assert.equal(signedIn.code, 0, signedIn.stderr);
    assert.equal(window.questions[0]!.account, undefined);
    assert.deepEqual([...window.questions[0]!.scopes], ['email', 'offline_access', 'openid', 'profile'], 'the sign-in asks for the configured scopes too');
    const run = await tool(window, ['token', '--json', '--scopes', 'openid']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(window.questions[1]!.account, 'demo');
    assert.deepEqual([...window.questions[1]!.scopes], String((JSON.parse(run.stdout) as { scope: string }).scope).split(' '));
  });

  it('"Allow Once" gives a token to that request only: the next one asks again', async () => {
    const window = await open({ consent: () => 'once' });
    await window.manager.createSession([]);
    assert.equal((await tool(window, ['token', '--scopes', 'openid'])).code, 0);
    assert.equal((await tool(window, ['token', '--scopes', 'openid'])).code, 0);
    assert.equal(window.questions.length, 2);
  });

  it('an answer that took longer than the token lived: the tool gets a valid token and that token\'s expiry', async () => {
    idp.settings.accessTokenTtl = 2;
    let stale = '';
    const window: TestWindow = await open({
      consent: async (): Promise<ConsentAnswer> => {
        // The person answers once the token read before the question is dead, at the IdP and for the window.
        const { accessToken, expiresAt } = (await window.manager.store.all())[0]!.tokens;
        stale = accessToken;
        while ((await idp.introspect(accessToken)).active || Date.now() <= expiresAt!) await new Promise((resolve) => setTimeout(resolve, 100));
        return 'once';
      },
    });
    await window.manager.createSession([]);
    idp.settings.accessTokenTtl = 3600;
    const run = await tool(window, ['token', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const answer = JSON.parse(run.stdout) as { access_token: string; expires_at: string; expires_in: number };
    assert.notEqual(answer.access_token, stale);
    const introspection = await idp.introspect(answer.access_token);
    assert.equal(introspection.active, true, 'the IdP accepts the token the tool got');
    assert.ok(Math.abs(Date.parse(answer.expires_at) / 1000 - Number(introspection.exp)) <= 1, `expires_at ${answer.expires_at} is the token's own (exp ${String(introspection.exp)})`);
  });

  it('a refresh by another caller while the modal is up: token and expiry come from the same, rotated record', async () => {
    idp.settings.accessTokenTtl = 2;
    const window: TestWindow = await open({
      consent: async (): Promise<ConsentAnswer> => {
        const { accessToken, expiresAt } = (await window.manager.store.all())[0]!.tokens;
        while ((await idp.introspect(accessToken)).active || Date.now() <= expiresAt!) await new Promise((resolve) => setTimeout(resolve, 100));
        idp.settings.accessTokenTtl = 3600;
        await window.manager.getSessions([]); // another extension's getSession refreshes meanwhile
        return 'once';
      },
    });
    await window.manager.createSession([]);
    const run = await tool(window, ['token', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const answer = JSON.parse(run.stdout) as { access_token: string; expires_at: string };
    const introspection = await idp.introspect(answer.access_token);
    assert.equal(introspection.active, true);
    assert.ok(Math.abs(Date.parse(answer.expires_at) / 1000 - Number(introspection.exp)) <= 1, `expires_at ${answer.expires_at}, the token's exp ${String(introspection.exp)}`);
    assert.equal(idp.count('refresh'), 1, 'one refresh: the tool took the rotated token, it did not refresh again');
  });

  it('Ctrl+C while the modal is up: the answer given afterwards is not remembered', async () => {
    let answer!: (given: 'always') => void;
    const window = await open({ consent: () => (window.questions.length === 1 ? new Promise((resolve) => (answer = resolve)) : 'once') });
    await window.manager.createSession([]);
    const running = startTool(commandPath(), ['token'], { env: window.env() });
    while (!window.questions.length) await new Promise((resolve) => setTimeout(resolve, 10));
    running.kill('SIGINT');
    assert.equal((await running.done).code, 130);
    while (!window.requestSignals[0]!.aborted) await new Promise((resolve) => setTimeout(resolve, 10));
    answer('always');
    const later = await tool(window, ['token']);
    assert.equal(later.code, 0, later.stderr);
    assert.equal(window.questions.length, 2, 'asked again: the "Always" given to nobody was not kept');
  });

  it('twenty tools at once on an expired session: exactly one refresh, one consent, one token for all', async () => {
    idp.settings.accessTokenTtl = 1;
    const window = await open();
    const session = await window.manager.createSession([]);
    // Really expired: for the identity provider (which counts whole seconds) and for the window.
    const { expiresAt } = (await window.manager.store.all())[0]!.tokens;
    while ((await idp.introspect(session.accessToken)).active || Date.now() <= expiresAt!) await new Promise((resolve) => setTimeout(resolve, 100));
    idp.settings.accessTokenTtl = 3600;
    idp.resetCounters();
    const runs = await Promise.all(Array.from({ length: 20 }, () => tool(window, ['token'])));
    for (const run of runs) assert.equal(run.code, 0, run.stderr);
    assert.equal(idp.count('refresh'), 1, 'one refresh for twenty tools');
    const tokens = new Set(runs.map((run) => run.stdout.trim()));
    assert.equal(tokens.size, 1);
    const [token] = tokens;
    assert.notEqual(token, session.accessToken);
    assert.equal((await idp.userinfo(token!)).status, 200);
    assert.equal(window.questions.length, 1, 'the twenty shared one consent question');
  });
});
