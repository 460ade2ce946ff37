// Real git through the `oauth-anywhere git-credential` helper, configured the way VS Code's
// terminals are (GIT_CONFIG_* only), against a real smart-HTTP git server (git http-backend) that
// accepts a token only when the test IdP does: clone, push, and after the IdP revokes the token,
// git's erase and a retry that gets a fresh one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentialHelperEntries, gitConfigVariables } from '../../src/terminal/gitEnvironment.js';
import { parseGitHosts } from '../../src/terminal/gitHosts.js';
import { startGitServer, type GitServer } from '../support/gitServer.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { readmeSection } from '../support/readme.js';
import { commandPath, gitCredentialHelper, runTool } from '../support/terminalCommand.js';
import { openTestWindow, type TestWindow } from '../support/terminalWindow.js';

describe('git through the credential helper, against a git server that trusts the test IdP', () => {
  let idp: TestIdp;
  let server: GitServer;
  let window: TestWindow;
  let work: string;
  let env: NodeJS.ProcessEnv;

  const git = (args: string[], cwd = work) => runTool('git', args, { env, cwd });
  const tokensSeen = () => [...new Set(server.requests.filter((request) => request.token).map((request) => request.token!))];

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
    const userinfoUrl = new URL(idp.provider.pathFor('userinfo'), idp.issuer).href;
    server = await startGitServer({ userinfoUrl });
    server.createRepository('demo', { 'README.md': '# demo\n' });
    window = await openTestWindow(idp, { gitHosts: [server.origin] });
    work = mkdtempSync(join(tmpdir(), 'oauth-anywhere-git-client-'));
    const { variables } = gitConfigVariables({}, credentialHelperEntries([server.origin], gitCredentialHelper()));
    // A user's git: its own HOME, no system config, never a terminal prompt (a missing credential fails at once).
    env = window.env({ HOME: work, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: undefined, SSH_ASKPASS: undefined, ...variables, GIT_AUTHOR_NAME: 'Demo', GIT_AUTHOR_EMAIL: 'demo@example.test', GIT_COMMITTER_NAME: 'Demo', GIT_COMMITTER_EMAIL: 'demo@example.test' });
  });
  after(async () => {
    await window?.close();
    await server?.close();
    await idp?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('clone: git asks the helper, the window signs in and asks consent once, the server sees an accepted token', async () => {
    const clone = await git(['clone', server.repositoryUrl('demo'), 'demo']);
    assert.equal(clone.code, 0, clone.stderr);
    assert.equal(readFileSync(join(work, 'demo', 'README.md'), 'utf8'), '# demo\n');
    assert.deepEqual(window.signIns, ['signed in']);
    assert.equal(window.questions.length, 1);
    const [question] = window.questions;
    assert.equal(question!.kind, 'git');
    assert.equal(question!.verb, 'git-credential get');
    assert.equal(question!.host, new URL(server.origin).host);
    // git clone, then the transport git started (nearest last); git's `sh -c` around the helper is left out.
    assert.ok(question!.callers?.some((line) => line === `git clone ${server.repositoryUrl('demo')} demo`), question!.callers?.join('\n'));
    assert.match(question!.callers?.at(-1) ?? '', /\/git-remote-http origin /);
    const [session] = await window.manager.listSessions();
    assert.deepEqual(tokensSeen(), [session!.accessToken], 'the password git sent is the session token');
    assert.ok(server.requests.some((request) => request.status === 401 && !request.token), 'git first tried without credentials');
    assert.ok(!clone.stderr.includes(session!.accessToken), 'no token on git\'s stderr');
  });

  it('push: the server receives the commit', async () => {
    const repository = join(work, 'demo');
    writeFileSync(join(repository, 'pushed.txt'), 'from the terminal\n');
    assert.equal((await git(['add', 'pushed.txt'], repository)).code, 0);
    assert.equal((await git(['commit', '-q', '-m', 'Pushed through the helper'], repository)).code, 0);
    const push = await git(['push', 'origin', 'main'], repository);
    assert.equal(push.code, 0, push.stderr);
    const log = spawnSync('git', ['--git-dir', join(server.root, 'demo.git'), 'log', '--format=%s', 'main'], { encoding: 'utf8' });
    assert.equal(log.stdout, 'Pushed through the helper\nFirst commit\n');
    assert.equal(window.questions.length, 1, 'consent was remembered');
  });

  it('after the IdP revokes the token: git fails, its erase makes the window ask the IdP, and a retry gets a fresh token', async () => {
    const repository = join(work, 'demo');
    const [session] = await window.manager.listSessions();
    const revoked = session!.accessToken;
    const revocation = await fetch(new URL(idp.provider.pathFor('revocation'), idp.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: revoked, token_type_hint: 'access_token', client_id: idp.clientId }).toString(),
    });
    assert.equal(revocation.status, 200);
    assert.equal((await idp.userinfo(revoked)).status, 401);
    idp.resetCounters();

    const refused = await git(['fetch', 'origin'], repository);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Authentication failed/);
    // oidc-provider revokes the whole grant with its access token: the window's refresh is refused
    // too, so the session goes, and the retry signs in again.
    assert.equal(idp.count('refresh'), 1, "git's erase made the window try the refresh token at once");
    assert.ok(window.logLines.some((line) => /refused the token of demo \(OAuth Anywhere\); the session was removed/.test(line)), window.logLines.join('\n'));
    assert.equal((await window.manager.listSessions()).length, 0);

    const retry = await git(['fetch', 'origin'], repository);
    assert.equal(retry.code, 0, retry.stderr);
    assert.deepEqual(window.signIns, ['signed in', 'signed in']);
    const [fresh] = await window.manager.listSessions();
    assert.notEqual(fresh!.accessToken, revoked);
    assert.equal(tokensSeen().at(-1), fresh!.accessToken);
    assert.equal((await idp.userinfo(fresh!.accessToken)).status, 200);
  });

  it("a store helper: from git's config files or earlier GIT_CONFIG_* entries it never gets the token; given with git -c it does, as the README says", async () => {
    const home = mkdtempSync(join(tmpdir(), 'oauth-anywhere-git-store-'));
    try {
      writeFileSync(join(home, '.gitconfig'), '[credential]\n\thelper = store\n');
      const existing = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'credential.helper', GIT_CONFIG_VALUE_0: 'store' };
      const { variables } = gitConfigVariables(existing, credentialHelperEntries([server.origin], gitCredentialHelper()));
      const storing = window.env({ HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: undefined, ...existing, ...variables });
      const stored = join(home, '.git-credentials');
      const listed = await runTool('git', ['ls-remote', server.repositoryUrl('demo')], { env: storing, cwd: home });
      assert.equal(listed.code, 0, listed.stderr);
      assert.ok(!existsSync(stored), 'nothing stored');
      const [session] = await window.manager.listSessions();
      const overridden = await runTool('git', ['-c', 'credential.helper=store', 'ls-remote', server.repositoryUrl('demo')], { env: storing, cwd: home });
      assert.equal(overridden.code, 0, overridden.stderr);
      assert.ok(readFileSync(stored, 'utf8').includes(session!.accessToken), 'git -c credential.helper=store stored the token');
      const readme = readmeSection('In the terminal');
      assert.match(readme, /`git -c credential\.helper=store …` \(or the same in `GIT_CONFIG_PARAMETERS`\) stores the token/);
      assert.doesNotMatch(readme, /never writes the token to disk/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('other hosts get no answer (git asks its next helper); store and a malformed request are no-ops', async () => {
    const other = await runTool(commandPath(), ['git-credential', 'get'], { env, input: 'protocol=https\nhost=elsewhere.example\n\n' });
    assert.deepEqual([other.code, other.stdout, other.stderr], [0, '', '']);
    const plainHttp = await runTool(commandPath(), ['git-credential', 'get'], { env, input: `protocol=http\nhost=${new URL(server.origin).host.replace('127.0.0.1', 'example.com')}\n\n` });
    assert.deepEqual([plainHttp.code, plainHttp.stdout], [0, '']);
    const store = await runTool(commandPath(), ['git-credential', 'store'], { env: { PATH: process.env.PATH }, input: 'protocol=https\nhost=x\nusername=a\npassword=b\n\n' });
    assert.deepEqual([store.code, store.stdout, store.stderr], [0, '', ''], 'store keeps nothing and needs no window');
    const empty = await runTool(commandPath(), ['git-credential', 'get'], { env, input: '\n' });
    assert.deepEqual([empty.code, empty.stdout], [0, '']);
    assert.equal(window.questions.length, 1, 'none of these asked for consent');
  });
});

describe('git hosts as git writes them: an explicit default port, international names, no wildcards', () => {
  let idp: TestIdp;
  let window: TestWindow;
  let home: string;
  let env: NodeJS.ProcessEnv;
  const setting = ['git.example.com', 'gít.example', '*.example.org'];
  const fill = (url: string) => runTool('git', ['credential', 'fill'], { env, cwd: home, input: `url=${url}\n\n` });
  const password = (stdout: string) => /^password=(.*)$/m.exec(stdout)?.[1];

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
    window = await openTestWindow(idp, { gitHosts: setting });
    await window.manager.createSession([]);
    home = mkdtempSync(join(tmpdir(), 'oauth-anywhere-git-hosts-'));
    // The user's own helper, which every host the setting does not really name must keep.
    writeFileSync(join(home, '.gitconfig'), '[credential]\n\thelper = "!f() { echo username=own; echo password=own-password; }; f"\n');
    const origins = parseGitHosts(setting).hosts.flatMap((host) => host.configOrigins);
    const { variables } = gitConfigVariables({}, credentialHelperEntries(origins, gitCredentialHelper()));
    env = window.env({ HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: undefined, ...variables });
  });
  after(async () => {
    await window?.close();
    await idp?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('a URL with :443 gets the token (git names the host with the port)', async () => {
    const [session] = await window.manager.listSessions();
    const run = await fill('https://git.example.com:443/team/app.git');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(password(run.stdout), session!.accessToken);
  });

  it('an international name gets the token in Unicode and in its xn-- form', async () => {
    const [session] = await window.manager.listSessions();
    for (const url of ['https://gít.example/app.git', 'https://xn--gt-nja.example/app.git']) {
      const run = await fill(url);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(password(run.stdout), session!.accessToken, url);
    }
  });

  it("a wildcard entry is refused with its reason and takes nothing from the user's own helpers", async () => {
    assert.match(parseGitHosts(setting).problems.join('\n'), /"\*\.example\.org": wildcards are not supported/);
    const run = await fill('https://code.example.org/app.git');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(password(run.stdout), 'own-password');
  });
});
