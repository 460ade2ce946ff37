// A window's service to its terminals over time (the core of the VS Code shell's TerminalAccess),
// with the real command and real git: terminal access turned off while terminals are open, and
// windows opened from another window's terminal (`code .`), which inherit its environment.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forgetInheritedTerminalVariables, WindowTerminals, type TerminalVariables } from '../../src/terminal/windowTerminals.js';
import { parseGitHosts } from '../../src/terminal/gitHosts.js';
import type { Access } from '../../src/terminal/broker.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { captureLogger } from '../support/logs.js';
import { commandInstallation, runTool } from '../support/terminalCommand.js';
import { openTestWindow, type TestWindow } from '../support/terminalWindow.js';

/** What VS Code does with a window's variables when it starts a terminal from an environment. */
function terminalOf(base: NodeJS.ProcessEnv, variables: TerminalVariables): NodeJS.ProcessEnv {
  const env = { ...base, ...variables.replace };
  if (variables.prependPath) env.PATH = `${variables.prependPath}${delimiter}${base.PATH ?? ''}`;
  return env;
}

describe("a window's terminals: access turned off, and windows opened from another window's terminal", () => {
  let idp: TestIdp;
  let home: string;
  let base: NodeJS.ProcessEnv;
  const windows: TestWindow[] = [];
  const services: WindowTerminals[] = [];
  const gitHost = 'git.example.com';
  const origins = parseGitHosts([gitHost]).hosts.flatMap((host) => host.configOrigins);

  /** A window (sessions, broker) and its WindowTerminals, started in `inherited`. */
  async function openWindow(inherited: NodeJS.ProcessEnv, access: { current: Access }) {
    const window = await openTestWindow(idp, { gitHosts: [gitHost], access: () => access.current });
    windows.push(window);
    const failures: string[] = [];
    const terminals = new WindowTerminals({
      runtimeDirectory: () => window.runtimeDirectory,
      handle: window.handle,
      logger: captureLogger(),
      inherited,
      node: process.execPath,
      extensionPath: commandInstallation(),
      onFailure: (message) => failures.push(message),
    });
    services.push(terminals);
    return { window, terminals, failures };
  }

  const fill = (env: NodeJS.ProcessEnv) => runTool('git', ['credential', 'fill'], { env, cwd: home, input: `protocol=https\nhost=${gitHost}\n\n` });
  const password = (stdout: string) => /^password=(.*)$/m.exec(stdout)?.[1];

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
    home = mkdtempSync(join(tmpdir(), 'oauth-anywhere-window-'));
    // The user's own helper and an entry of their own in GIT_CONFIG_*: both must survive everything below.
    writeFileSync(join(home, '.gitconfig'), '[credential]\n\thelper = "!f() { echo username=own; echo password=own-password; }; f"\n');
    base = { PATH: process.env.PATH, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.name', GIT_CONFIG_VALUE_0: 'Someone' };
  });
  after(async () => {
    for (const terminals of services) await terminals.close();
    for (const window of windows) await window.close();
    await idp?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('turned off while a terminal is open: its tools are refused with the reason (exit 4), not told the window is gone', async () => {
    const access = { current: { allowed: true } as Access };
    const { window, terminals, failures } = await openWindow(base, access);
    await window.manager.createSession([]);
    const before = terminalOf(base, terminals.variables(true, origins));
    assert.ok(await terminals.listeningEndpoint(), failures.join('\n'));
    assert.equal((await runTool('oauth-anywhere', ['token'], { env: before })).code, 0);

    access.current = { allowed: false, reason: 'Terminal access is turned off in this VS Code window (setting "oauthAnywhere.terminal.enabled").' };
    const after = terminalOf(base, terminals.variables(false, origins));
    const opened = await runTool('oauth-anywhere', ['token'], { env: before });
    assert.equal(opened.code, 4, opened.stderr);
    assert.equal(opened.stderr, `oauth-anywhere: ${access.current.reason}\n`);
    const git = await fill(before);
    assert.notEqual(git.code, 0);
    assert.ok(git.stderr.includes(access.current.reason), `git shows the reason: ${git.stderr}`);

    const fresh = await runTool(process.execPath, [join(commandInstallation(), 'dist', 'cli.js'), 'token'], { env: after });
    assert.equal(fresh.code, 4, fresh.stderr);
    assert.match(fresh.stderr, /^oauth-anywhere: Terminal access is off in the VS Code window of this terminal/);
    assert.equal(password((await fill(after)).stdout), 'own-password', "a new terminal's git uses the user's own helper");

    access.current = { allowed: true };
    const again = terminalOf(base, terminals.variables(true, origins));
    assert.equal(again.OAUTH_ANYWHERE_TERMINAL_ENDPOINT, before.OAUTH_ANYWHERE_TERMINAL_ENDPOINT, 'on again: the same endpoint');
    assert.equal((await runTool('oauth-anywhere', ['token'], { env: before })).code, 0, 'terminals opened before work again');
  });

  it("an untrusted window opened from a trusted window's terminal: its terminals reach neither window", async () => {
    const trusted = await openWindow(base, { current: { allowed: true } });
    await trusted.window.manager.createSession([]);
    const trustedTerminal = terminalOf(base, trusted.terminals.variables(true, origins));
    await trusted.terminals.listeningEndpoint();
    const [session] = await trusted.window.manager.listSessions();
    assert.equal(password((await fill(trustedTerminal)).stdout), session!.accessToken, "the trusted window's own terminal gets its token");
    const asked = trusted.window.questions.length;

    // `code .` typed there: the new window starts with that terminal's environment.
    const untrusted = await openWindow(trustedTerminal, { current: { allowed: false, reason: 'The workspace of this VS Code window is not trusted.' } });
    const variables = untrusted.terminals.variables(false, origins);
    const terminal = terminalOf(trustedTerminal, variables);
    assert.equal(terminal.OAUTH_ANYWHERE_TERMINAL_ENDPOINT, '');
    assert.equal(terminal.OAUTH_ANYWHERE_TERMINAL_SECRET, '');
    const token = await runTool('oauth-anywhere', ['token'], { env: terminal });
    assert.equal(token.code, 4, token.stderr);
    assert.equal(token.stdout, '');
    assert.equal(password((await fill(terminal)).stdout), 'own-password', "git asks the user's own helper, not the trusted window");
    assert.equal(trusted.window.questions.length, asked, 'the trusted window was never asked');
    assert.equal((await runTool('git', ['config', '--get', 'user.name'], { env: terminal, cwd: home })).stdout, 'Someone\n');
    assert.equal(untrusted.failures.length, 0);

    // And the untrusted window's own processes (tasks, VS Code's git) do not carry the other window's access either.
    const extensionHost = { ...trustedTerminal };
    forgetInheritedTerminalVariables(extensionHost);
    assert.deepEqual(
      Object.keys(extensionHost).filter((name) => name.startsWith('OAUTH_ANYWHERE_TERMINAL_')),
      [],
    );
    assert.equal(extensionHost.GIT_CONFIG_COUNT, '1');
    assert.equal(password((await fill(extensionHost)).stdout), 'own-password');
  });

  it("a serving window opened from another's terminal sets git up once, with its own helper", async () => {
    const first = await openWindow(base, { current: { allowed: true } });
    const firstTerminal = terminalOf(base, first.terminals.variables(true, origins));
    const second = await openWindow(firstTerminal, { current: { allowed: true } });
    await second.window.manager.createSession([]);
    const secondTerminal = terminalOf(firstTerminal, second.terminals.variables(true, origins));
    await second.terminals.listeningEndpoint();
    assert.equal(secondTerminal.GIT_CONFIG_COUNT, '3', "the user's entry and ours, once");
    const helpers = await runTool('git', ['config', '--get-all', `credential.https://${gitHost}.helper`], { env: secondTerminal, cwd: home });
    assert.equal(helpers.stdout.split('\n').filter(Boolean).length, 1, `one helper of ours (after the empty one): ${helpers.stdout}`);
    const [session] = await second.window.manager.listSessions();
    assert.equal(password((await fill(secondTerminal)).stdout), session!.accessToken);
    assert.equal(first.window.questions.length, 0, 'the first window was not asked');
    assert.equal((await runTool('git', ['config', '--get', 'user.name'], { env: secondTerminal, cwd: home })).stdout, 'Someone\n');
  });
});
