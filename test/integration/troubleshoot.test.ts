import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import MarkdownIt from 'markdown-it';
import { after, before, describe, it } from 'node:test';
import { readSettings } from '../../src/config.js';
import { renderReport, troubleshoot } from '../../src/diagnostics/troubleshoot.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { createSharedSecrets } from '../support/memorySecretStorage.js';
import { scratchDirectory } from '../support/scratch.js';
import { MachineCoordination } from '../../src/auth/coordination.js';
import { silentLogger } from '../../src/oauth/types.js';

const remote = { remoteName: 'ssh-remote', uiKind: 'desktop', extensionKind: 'workspace' } as const;
const settingsFor = (values: Record<string, unknown>) => readSettings((key) => values[key]);

describe('troubleshooting report against oidc-provider', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp();
  });
  after(() => idp.close());

  it('reports a healthy setup: discovery, offered endpoints, flow and why, clock, loopback bind, storage', async () => {
    const checks = await troubleshoot({ environment: remote, settings: settingsFor({ issuer: idp.issuer, clientId: idp.clientId }), secrets: createSharedSecrets().window(), recentErrors: [] });
    const byTitle = new Map(checks.map((check) => [check.title, check]));
    assert.equal(byTitle.get('Discovery')?.status, 'ok');
    assert.match(byTitle.get('Discovery')!.lines.join('\n'), /plain http \(allowed only because the issuer is a loopback address\)/);
    assert.match(byTitle.get('What the identity provider offers')!.lines.join('\n'), /device authorization endpoint: `http:\/\/127\.0\.0\.1:\d+\/device\/auth`/);
    assert.match(byTitle.get('Flow')!.lines.join('\n'), /would use: device, then loopback[\s\S]*ssh-remote/);
    assert.match(byTitle.get('Clock')!.lines.join('\n'), /clock minus this machine's: -?[01] s/);
    assert.equal(byTitle.get('Loopback callback server')?.status, 'ok');
    assert.equal(byTitle.get('Secret storage')?.status, 'ok');
    const report = renderReport(checks, new Date());
    assert.match(report, /^# OAuth Anywhere: sign-in troubleshooting report/);
    assert.match(report, new RegExp(idp.clientId));
  });

  it('says which port a preset that compares redirect URIs exactly fixes, and which address to register', async () => {
    const checks = await troubleshoot({ environment: remote, settings: settingsFor({ preset: 'gitlab', domain: 'https://gitlab.example.test', clientId: 'x', loopbackPort: 0 }), secrets: createSharedSecrets().window(), recentErrors: [], timeoutMs: 200 });
    const settings = checks.find((check) => check.title === 'Settings')!.lines.join('\n');
    assert.match(settings, /loopback port: 28130 \(the GitLab preset's: 0 means this port with it; register http:\/\/127\.0\.0\.1:28130\/callback\)/);
  });

  it('says how this window meets the other windows of its machine: the runtime directory and the windows there', async () => {
    const directory = scratchDirectory();
    const [one, two] = [new MachineCoordination(silentLogger, { directory }), new MachineCoordination(silentLogger, { directory })];
    try {
      await two.start();
      const settings = settingsFor({ issuer: 'http://idp.example.com', clientId: '' });
      const [ready] = (await troubleshoot({ environment: remote, settings, secrets: createSharedSecrets().window(), recentErrors: [], windows: await one.describe() })).filter((check) => /Other VS Code windows/.test(check.title));
      assert.equal(ready?.status, 'ok');
      assert.match(ready.lines.join('\n'), /1 other window\(s\)/);
      const blocked = new MachineCoordination(silentLogger, { directory: '/proc/not-a-place-for-sockets' });
      const [warned] = (await troubleshoot({ environment: remote, settings, secrets: createSharedSecrets().window(), recentErrors: [], windows: await blocked.describe() })).filter((check) => /Other VS Code windows/.test(check.title));
      assert.equal(warned?.status, 'warn');
      assert.match(warned.lines.join('\n'), /OAUTH_ANYWHERE_RUNTIME_DIR/);
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it('names every bad setting and skips the IdP checks', async () => {
    const checks = await troubleshoot({ environment: remote, settings: settingsFor({ issuer: 'http://idp.example.com', clientId: '' }), secrets: createSharedSecrets().window(), recentErrors: [] });
    const settings = checks.find((check) => check.title === 'Settings')!;
    assert.equal(settings.status, 'fail');
    assert.match(settings.lines.join('\n'), /oauthAnywhere\.issuer: .*HTTPS/);
    assert.match(settings.lines.join('\n'), /oauthAnywhere\.clientId/);
    assert.ok(!checks.some((check) => check.title === 'Discovery'));
  });

  it('says why discovery fails when nothing answers, and that a fixed loopback port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const takenPort = (blocker.address() as { port: number }).port;
    try {
      const checks = await troubleshoot({
        environment: remote,
        settings: settingsFor({ issuer: `http://127.0.0.1:${takenPort}/`, clientId: 'x', loopbackPort: takenPort }),
        secrets: createSharedSecrets().window(),
        recentErrors: [],
        timeoutMs: 500,
      });
      assert.equal(checks.find((check) => check.title === 'Discovery')?.status, 'fail');
      const bind = checks.find((check) => check.title === 'Loopback callback server')!;
      assert.equal(bind.status, 'fail');
      assert.match(bind.lines.join('\n'), /in use \(EADDRINUSE\): .*a sign-in in progress/);
      assert.doesNotMatch(bind.lines.join('\n'), /to 0\b/, 'no advice that cannot help with a preset that fixes the port');
    } finally {
      blocker.close();
    }
  });

  it('keeps anything token-shaped out of the report, even inside recent error messages', async () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJlLXZhbHVl';
    const checks = await troubleshoot({ environment: remote, settings: settingsFor({}), secrets: createSharedSecrets().window(), recentErrors: [`refresh failed for ${jwt}`, 'callback ?code=abc123456&state=x'] });
    const report = renderReport(checks, new Date());
    assert.ok(!report.includes(jwt));
    assert.ok(!report.includes('abc123456'));
    assert.match(report, /refresh failed for \[redacted\]/);
  });

  it("renders the identity provider's strings as inert text: no link, image, HTML or section of its own, and unsafe URLs marked as refused", async () => {
    const hostile = '[Open](command:workbench.action.terminal.new)\n\n## ✅ Settings\n- all good ![x](https://tracker.example/p.png) <img src=x onerror=alert(1)> https://evil.example/x `code` **bold**';
    idp.injectFault('discovery', { kind: 'edit_answer', set: {
      grant_types_supported: ['authorization_code', 'refresh_token', hostile],
      end_session_endpoint: 'javascript:alert(1)',
      code_challenge_methods_supported: ['S256', '<img src=x onerror=alert(1)>', 42],
    } }, 1);
    const checks = await troubleshoot({ environment: { ...remote, remoteName: 'ssh-remote+[x](https://evil.example)' }, settings: settingsFor({ issuer: idp.issuer, clientId: idp.clientId }), secrets: createSharedSecrets().window(), recentErrors: [hostile] });
    const report = renderReport(checks, new Date(0));
    // VS Code's Markdown preview renders with markdown-it, HTML and bare links included.
    const html = new MarkdownIt({ html: true, linkify: true }).render(report);
    assert.doesNotMatch(html, /<a |<img|<script|<strong>/, html);
    assert.equal((html.match(/<h2>/g) ?? []).length, checks.length, 'one section per check, none forged');
    assert.equal((html.match(/<h1>/g) ?? []).length, 1);
    const offers = checks.find((check) => check.title === 'What the identity provider offers')!.lines.join('\n');
    assert.match(offers, /end session endpoint: refused \(.*javascript:, not https.*\)/);
    assert.match(offers, /PKCE methods: `S256`, `<img src=x onerror=alert\(1\)>`/);
    assert.ok(report.includes('`[Open]\u200b(command:workbench.action.terminal.new) ## ✅ Settings - all good'), 'the text is there to read, as sent, on one line');
    assert.doesNotMatch(report, /\]\(command:/, 'no link syntax even in the Markdown source');

    idp.injectFault('discovery', { kind: 'edit_answer', set: { grant_types_supported: 'authorization_code refresh_token', code_challenge_methods_supported: { S256: true } } }, 1);
    const odd = await troubleshoot({ environment: remote, settings: settingsFor({ issuer: idp.issuer, clientId: `${idp.clientId}-2` }), secrets: createSharedSecrets().window(), recentErrors: [] });
    const oddOffers = odd.find((check) => check.title === 'What the identity provider offers')!.lines.join('\n');
    assert.match(oddOffers, /grant types: not a list \(ignored\)/);
    assert.match(oddOffers, /PKCE methods: not a list \(ignored\)/);
  });
});
