// The `oauth-anywhere` command line, and the consent memory behind "Allow once / Always / Deny".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { terminalAccess } from '../../src/terminal/broker.js';
import { describeCaller } from '../../src/terminal/callerProcess.js';
import { parseCommand, usage } from '../../src/terminal/cli/args.js';
import { isPrintableToken, printable, printableJson } from '../../src/terminal/cli/terminalText.js';
import { ConsentKeeper, type ConsentAnswer, type ConsentQuestion } from '../../src/terminal/consent.js';

describe('oauth-anywhere arguments', () => {
  it('token, kubectl, git-credential, status, help', () => {
    assert.deepEqual(parseCommand(['token']), { verb: 'token', output: 'token', signIn: true });
    assert.deepEqual(parseCommand(['token', '--provider', 'work', '--scopes', 'read:api, openid', '--json', '--no-sign-in']), { verb: 'token', output: 'json', provider: 'work', scopes: ['read:api', 'openid'], signIn: false });
    assert.deepEqual(parseCommand(['token', '--header']), { verb: 'token', output: 'header', signIn: true });
    assert.deepEqual(parseCommand(['kubectl', '--scopes', 'k8s']), { verb: 'kubectl', scopes: ['k8s'], signIn: true });
    assert.deepEqual(parseCommand(['kubectl', '--provider=work', '--scopes=a b']), { verb: 'kubectl', provider: 'work', scopes: ['a', 'b'], signIn: true });
    assert.deepEqual(parseCommand(['git-credential', 'get']), { verb: 'git-credential', action: 'get' });
    assert.deepEqual(parseCommand(['git-credential', 'erase']), { verb: 'git-credential', action: 'erase' });
    assert.deepEqual(parseCommand(['status', '--json']), { verb: 'status', json: true });
    for (const help of [[], ['help'], ['--help'], ['-h']]) assert.deepEqual(parseCommand(help), { verb: 'help' });
  });

  it('says what is wrong with a bad command line', () => {
    assert.match((parseCommand(['token', '--scope', 'x']) as { problem: string }).problem, /Unknown option "--scope"/);
    assert.match((parseCommand(['token', 'extra']) as { problem: string }).problem, /Unexpected argument "extra"/);
    assert.match((parseCommand(['token', '--provider']) as { problem: string }).problem, /"--provider" needs a value/);
    assert.match((parseCommand(['token', '--provider', '--json']) as { problem: string }).problem, /"--provider" needs a value/);
    assert.match((parseCommand(['token', '--json=yes']) as { problem: string }).problem, /Unknown option "--json"/);
    assert.match((parseCommand(['status', '--provider', 'x']) as { problem: string }).problem, /Unknown option "--provider"/);
    assert.match((parseCommand(['kubectl', '--json']) as { problem: string }).problem, /kubectl always gets JSON/);
    assert.match((parseCommand(['kubectl', '--header']) as { problem: string }).problem, /kubectl always gets JSON; --header is for "token"/);
    assert.match((parseCommand(['token', '--json', '--header']) as { problem: string }).problem, /one of --json and --header/);
    assert.match((parseCommand(['git-credential', 'fill']) as { problem: string }).problem, /get, store or erase/);
    assert.match((parseCommand(['login']) as { problem: string }).problem, /Unknown command "login"/);
  });

  it('the help documents every exit code', () => {
    for (const code of ['0 done', '1 failed', '2 wrong usage', '3 not signed in', '4 refused', '5 no VS Code window', '130 cancelled']) assert.ok(usage.includes(code), code);
  });

  it('the help shows how to keep the token off the command line', () => {
    assert.match(usage, /oauth-anywhere token --header \| curl -H @- /);
    assert.doesNotMatch(usage, /\$\(oauth-anywhere token/);
  });
});

describe('text printed to a terminal', () => {
  it('control characters from elsewhere are shown, not acted on', () => {
    const hostile = 'no \u001b]8;;https://evil.example/\u0007click here\u001b]8;;\u0007 \u001b[2K\u001b[1Afake\r\n\u009b31m \u202eevil\u202c\u007f';
    const shown = printable(hostile);
    assert.equal(shown, 'no \\x1b]8;;https://evil.example/\\x07click here\\x1b]8;;\\x07 \\x1b[2K\\x1b[1Afake\\x0d\\x0a\\x9b31m \\u202eevil\\u202c\\x7f');
    assert.doesNotMatch(shown, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.equal(printable('Émile at Ünïcode IdP: 100 % fine'), 'Émile at Ünïcode IdP: 100 % fine');
  });

  it('JSON keeps the value and loses the raw control characters', () => {
    const value = { account: 'a\u001b[2Kb\u009bc\u202ed', scope: 'openid' };
    const text = printableJson(value);
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.deepEqual(JSON.parse(text), value);
  });

  it('an access token is printed only when it is printable ASCII (RFC 6749 VSCHAR)', () => {
    assert.ok(isPrintableToken('eyJhbGciOi.J9-_~+/='));
    for (const bad of ['', 'abc\u001b[2K', 'abc\ndef', 'tök', 'abc\u009b']) assert.ok(!isPrintableToken(bad), JSON.stringify(bad));
  });
});

describe('consent memory', () => {
  const question = (kind: ConsentQuestion['kind'], providerId = 'oauth-anywhere'): ConsentQuestion => ({ provider: { id: providerId, label: 'OAuth Anywhere' }, kind, verb: kind, scopes: ['openid'] });
  function keeper(answers: ConsentAnswer[]) {
    let stored: readonly string[] = [];
    const asked: ConsentQuestion[] = [];
    const consent = new ConsentKeeper(async (q) => (asked.push(q), answers.shift() ?? 'dismissed'), { get: () => stored, set: async (keys) => void (stored = [...keys]) });
    return { consent, asked, stored: () => stored };
  }

  it('Allow once and Deny hold for the window, per provider and tool kind; dismissing remembers nothing', async () => {
    const { consent, asked, stored } = keeper(['once', 'deny', 'dismissed', 'once']);
    assert.equal(await consent.decide(question('git')), true);
    assert.equal(await consent.decide(question('git')), true);
    assert.equal(await consent.decide(question('kubectl')), false);
    assert.equal(await consent.decide(question('kubectl')), false);
    assert.equal(await consent.decide(question('git', 'oauth-anywhere.work')), false, 'dismissed');
    assert.equal(await consent.decide(question('git', 'oauth-anywhere.work')), true, 'asked again after a dismissal');
    assert.equal(asked.length, 4);
    assert.deepEqual(stored(), []);
  });

  it('Always allow is stored for every window; concurrent requests share one question; forget asks again', async () => {
    const { consent, asked, stored } = keeper(['always', 'deny']);
    const answers = await Promise.all(Array.from({ length: 5 }, () => consent.decide(question('token'))));
    assert.deepEqual(answers, [true, true, true, true, true]);
    assert.equal(asked.length, 1);
    assert.deepEqual(stored(), ['oauth-anywhere|token']);
    assert.deepEqual(consent.alwaysAllowedKinds('oauth-anywhere'), ['token']);
    assert.deepEqual(consent.decisions(), [{ providerId: 'oauth-anywhere', kind: 'token', decision: 'always' }]);
    await consent.forget('oauth-anywhere', 'token');
    assert.deepEqual(stored(), []);
    assert.equal(await consent.decide(question('token')), false);
    assert.equal(asked.length, 2);
  });
});

describe('who called the command', () => {
  const table = new Map<number, { parent: number; argv: string[] }>([
    [100, { parent: 90, argv: ['node', '/ext/dist/cli.js', 'git-credential', 'get'] }],
    [90, { parent: 80, argv: ['/bin/sh', '-c', "'/ext/bin/oauth-anywhere' git-credential get"] }],
    [80, { parent: 70, argv: ['/usr/lib/git-core/git-remote-https', 'origin', 'https://me:hunter2@git.example.com/repo.git'] }],
    [70, { parent: 60, argv: ['git', 'clone', 'https://me:hunter2@git.example.com/repo.git'] }],
    [60, { parent: 1, argv: ['-bash'] }],
    [200, { parent: 60, argv: ['node', 'cli.js', 'token'] }],
    [300, { parent: 310, argv: ['node', 'cli.js', 'token'] }],
    [310, { parent: 60, argv: ['curl', '-H', 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz', 'https://api.example.com'] }],
  ]);
  const read = async (pid: number) => table.get(pid);

  it('names the command line typed in the terminal and the program that asked, without secrets', async () => {
    assert.equal(await describeCaller(100, read), 'git clone https://…@git.example.com/repo.git (via git-remote-https)');
    assert.equal(await describeCaller(200, read), 'typed in the terminal');
    assert.equal(await describeCaller(300, read), 'curl -H Authorization: Bearer [redacted] https://api.example.com');
    assert.equal(await describeCaller(999, read), undefined);
  });

  it('reads the real process tree on Linux', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    // A shell without -c stands for the terminal; `timeout` runs the "command" (sleep) as its child.
    const shell = spawn('sh', [], { stdio: ['pipe', 'pipe', 'inherit'] });
    shell.stdin.write('timeout 30 sleep 30 & echo $!\n');
    const timeoutPid = Number(await new Promise<string>((resolve) => shell.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
    try {
      let children = '';
      while (!children.trim()) children = await readFile(`/proc/${timeoutPid}/task/${timeoutPid}/children`, 'utf8');
      assert.equal(await describeCaller(Number(children.trim())), 'timeout 30 sleep 30');
    } finally {
      process.kill(timeoutPid, 'SIGTERM');
      shell.stdin.end();
    }
  });
});

describe('when terminal tools are served', () => {
  it('on by default, off by the setting, never in an untrusted workspace', () => {
    assert.deepEqual(terminalAccess(undefined, true), { allowed: true });
    assert.deepEqual(terminalAccess(true, true), { allowed: true });
    assert.match((terminalAccess(false, true) as { reason: string }).reason, /oauthAnywhere\.terminal\.enabled/);
    assert.match((terminalAccess(true, false) as { reason: string }).reason, /not trusted/);
    assert.match((terminalAccess(undefined, false) as { reason: string }).reason, /not trusted/);
  });
});
