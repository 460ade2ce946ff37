// The `oauth-anywhere` command line, and the consent memory behind "Allow once / Always / Deny".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    // eslint-disable-next-line no-control-regex -- looking for control characters
    assert.doesNotMatch(shown, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.equal(printable('Émile at Ünïcode IdP: 100 % fine'), 'Émile at Ünïcode IdP: 100 % fine');
  });

  it('JSON keeps the value and loses the raw control characters', () => {
    const value = { account: 'a\u001b[2Kb\u009bc\u202ed', scope: 'openid' };
    const text = printableJson(value);
    // eslint-disable-next-line no-control-regex -- looking for control characters
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.deepEqual(JSON.parse(text), value);
  });

  it('an access token is printed only when it is printable ASCII (RFC 6749 VSCHAR)', () => {
    assert.ok(isPrintableToken('eyJhbGciOi.J9-_~+/='));
    for (const bad of ['', 'abc\u001b[2K', 'abc\ndef', 'tök', 'abc\u009b']) assert.ok(!isPrintableToken(bad), JSON.stringify(bad));
  });
});

describe('consent memory', () => {
  const provider = { id: 'oauth-anywhere', label: 'OAuth Anywhere', issuer: 'https://idp.example', clientId: 'app' };
  const question = (kind: ConsentQuestion['kind'], changes: Partial<ConsentQuestion['provider']> = {}, cluster?: string): ConsentQuestion => ({
    provider: { ...provider, ...changes },
    kind,
    verb: kind,
    scopes: ['openid'],
    ...(cluster ? { cluster } : {}),
  });
  function keeper(answers: ConsentAnswer[], initial: readonly string[] = []) {
    let stored: readonly string[] = initial;
    const asked: ConsentQuestion[] = [];
    const consent = new ConsentKeeper(async (q) => (asked.push(q), answers.shift() ?? 'dismissed'), { get: () => stored, set: async (keys) => void (stored = [...keys]) });
    return { consent, asked, stored: () => stored };
  }

  it('Allow once gives a token to that request only; Deny holds for the window; dismissing remembers nothing', async () => {
    const { consent, asked, stored } = keeper(['once', 'once', 'deny', 'dismissed', 'once']);
    assert.equal(await consent.decide(question('git')), true);
    assert.equal(await consent.decide(question('git')), true);
    assert.equal(asked.length, 2, '"Allow Once" is asked again for the next request');
    assert.equal(await consent.decide(question('kubectl')), false);
    assert.equal(await consent.decide(question('kubectl')), false);
    assert.equal(asked.length, 3, 'a Deny is remembered in the window');
    assert.equal(await consent.decide(question('token')), false, 'dismissed');
    assert.equal(await consent.decide(question('token')), true, 'asked again after a dismissal');
    assert.equal(asked.length, 5);
    assert.deepEqual(stored(), []);
    assert.deepEqual(consent.decisions().map((decision) => [decision.kind, decision.decision]), [['kubectl', 'denied']]);
  });

  it('Always allow is stored for every window; identical requests at once share one question; forget asks again', async () => {
    const { consent, asked, stored } = keeper(['always', 'deny']);
    const answers = await Promise.all(Array.from({ length: 5 }, () => consent.decide(question('token'))));
    assert.deepEqual(answers, [true, true, true, true, true]);
    assert.equal(asked.length, 1);
    const key = JSON.stringify(['oauth-anywhere', 'https://idp.example', 'app', 'token', null]);
    assert.deepEqual(stored(), [key]);
    assert.deepEqual(consent.alwaysAllowedTools(provider), ['token']);
    assert.deepEqual(consent.decisions(), [{ key, providerId: 'oauth-anywhere', issuer: 'https://idp.example', clientId: 'app', kind: 'token', decision: 'always' }]);
    await consent.forget(key);
    assert.deepEqual(stored(), []);
    assert.equal(await consent.decide(question('token')), false);
    assert.equal(asked.length, 2);
  });

  it('"Allow Once" shared by identical waiting requests only: other scopes or another account ask their own question', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const asked: ConsentQuestion[] = [];
    const consent = new ConsentKeeper(async (q) => (asked.push(q), await gate, 'once'), { get: () => [], set: async () => undefined });
    const same = [consent.decide(question('token')), consent.decide(question('token'))];
    const otherScopes = consent.decide({ ...question('token'), scopes: ['openid', 'email'] });
    const otherAccount = consent.decide({ ...question('token'), account: 'someone' });
    release();
    assert.deepEqual(await Promise.all([...same, otherScopes, otherAccount]), [true, true, true, true]);
    assert.equal(asked.length, 3);
  });

  it('answers hold for one issuer and client, and for kubectl one cluster when kubectl names it', async () => {
    const { consent, asked } = keeper(['always', 'deny', 'always', 'dismissed', 'dismissed']);
    assert.equal(await consent.decide(question('git')), true);
    assert.equal(await consent.decide(question('git')), true);
    assert.equal(asked.length, 1);
    assert.equal(await consent.decide(question('git', { issuer: 'https://other-idp.example' })), false, 'another issuer: asked (and denied)');
    assert.equal(await consent.decide(question('git', { clientId: 'other-app' })), true, 'another client: asked');
    assert.equal(asked.length, 3);
    assert.equal(consent.remembered(question('git', { issuer: 'https://other-idp.example' })), 'deny');
    assert.equal(consent.remembered(question('git')), 'allow');

    const k8s = keeper(['always', 'dismissed', 'dismissed']);
    assert.equal(await k8s.consent.decide(question('kubectl', {}, 'https://prod.example:6443')), true);
    assert.equal(await k8s.consent.decide(question('kubectl', {}, 'https://prod.example:6443')), true);
    assert.equal(await k8s.consent.decide(question('kubectl', {}, 'https://dev.example:6443')), false, 'another cluster: asked');
    assert.equal(await k8s.consent.decide(question('kubectl')), false, 'no cluster named: asked');
    assert.equal(k8s.asked.length, 3);
    assert.deepEqual(k8s.consent.alwaysAllowedTools(provider), ['kubectl for https://prod.example:6443']);
  });

  it('an answer given after the request went away (Ctrl+C while the modal is up) is not remembered', async () => {
    for (const answer of ['always', 'deny'] as const) {
      let give!: (given: ConsentAnswer) => void;
      const asked: ConsentQuestion[] = [];
      let stored: readonly string[] = [];
      const consent = new ConsentKeeper((q) => (asked.push(q), new Promise<ConsentAnswer>((resolve) => (give = resolve))), { get: () => stored, set: async (keys) => void (stored = [...keys]) });
      const gone = new AbortController();
      const decided = consent.decide(question('token'), gone.signal);
      gone.abort();
      give(answer);
      assert.equal(await decided, false, 'nobody to give the token to');
      assert.deepEqual(stored, []);
      assert.equal(consent.remembered(question('token')), undefined, answer);
    }
    // One of two waiting requests is still there: the answer counts.
    let give!: (given: ConsentAnswer) => void;
    let stored: readonly string[] = [];
    const consent = new ConsentKeeper(() => new Promise<ConsentAnswer>((resolve) => (give = resolve)), { get: () => stored, set: async (keys) => void (stored = [...keys]) });
    const gone = new AbortController();
    const first = consent.decide(question('token'), gone.signal);
    const second = consent.decide(question('token'), new AbortController().signal);
    gone.abort();
    give('always');
    assert.deepEqual([await first, await second], [false, true]);
    assert.equal(consent.remembered(question('token')), 'allow');
  });

  it('answers kept under an older key shape never match and are dropped on the next write', async () => {
    const { consent, stored } = keeper(['always'], ['oauth-anywhere|git']);
    assert.equal(consent.remembered(question('git')), undefined);
    assert.deepEqual(consent.decisions(), []);
    assert.equal(await consent.decide(question('git')), true);
    assert.deepEqual(stored(), [JSON.stringify(['oauth-anywhere', 'https://idp.example', 'app', 'git', null])]);
  });
});

describe('who called the command', () => {
  const table = new Map<number, { parent: number; argv: string[] }>([
    [100, { parent: 90, argv: ['node', '/ext/dist/cli.js', 'git-credential', 'get'] }],
    [90, { parent: 80, argv: ['/bin/sh', '-c', "ELECTRON_RUN_AS_NODE=1 '/node' '/ext/dist/cli.js' git-credential get \"$@\"", "ELECTRON_RUN_AS_NODE=1 '/node' '/ext/dist/cli.js' git-credential get"] }],
    [80, { parent: 70, argv: ['/usr/lib/git-core/git-remote-https', 'origin', 'https://me:hunter2@git.example.com/repo.git'] }],
    [70, { parent: 60, argv: ['git', 'clone', 'https://me:hunter2@git.example.com/repo.git'] }],
    [60, { parent: 1, argv: ['-bash'] }],
    [200, { parent: 60, argv: ['node', 'cli.js', 'token'] }],
    [300, { parent: 310, argv: ['node', 'cli.js', 'token'] }],
    [310, { parent: 60, argv: ['curl', '-H', 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz', 'https://api.example.com'] }],
    [400, { parent: 410, argv: ['node', 'cli.js', 'token'] }],
    [410, { parent: 420, argv: ['/bin/bash', './deploy.sh', 'prod'] }],
    [420, { parent: 1, argv: ['/usr/bin/bash', '--init-file', '/vscode/shellIntegration-bash.sh'] }],
    [500, { parent: 510, argv: ['node', 'cli.js', 'token'] }],
    [510, { parent: 420, argv: ['bash', '-lc', 'oauth-anywhere token'] }],
    [600, { parent: 610, argv: ['node', 'cli.js', 'token'] }],
    [610, { parent: 620, argv: ['sh', '-c', 'oauth-anywhere token'] }],
    [620, { parent: 420, argv: ['python3', 'sync.py'] }],
    [700, { parent: 710, argv: ['node', 'cli.js', 'token'] }],
    [710, { parent: 420, argv: ['python3', 'evil\u202egnp.py', 'zero\u200bwidth'] }],
  ]);
  const read = async (pid: number) => table.get(pid);

  it('names the command lines that led to the command, outermost first, without secrets', async () => {
    assert.deepEqual(await describeCaller(100, read), ['bash (its prompt)', 'git clone https://…@git.example.com/repo.git', '/usr/lib/git-core/git-remote-https origin https://…@git.example.com/repo.git']);
    assert.deepEqual(await describeCaller(200, read), ['bash (its prompt)']);
    assert.deepEqual(await describeCaller(300, read), ['bash (its prompt)', 'curl -H Authorization: Bearer [redacted] https://api.example.com']);
    assert.equal(await describeCaller(999, read), undefined);
  });

  it('bidirectional overrides and zero-width characters in a command line are dropped, so it cannot reorder the dialog', async () => {
    assert.deepEqual(await describeCaller(700, read), ['bash (its prompt)', 'python3 evilgnp.py zerowidth']);
  });

  it('a script or a shell command is named as such, never as typed at the prompt', async () => {
    assert.deepEqual(await describeCaller(400, read), ['bash (its prompt)', '/bin/bash ./deploy.sh prod']);
    assert.deepEqual(await describeCaller(500, read), ['bash (its prompt)', 'bash -lc oauth-anywhere token']);
    assert.deepEqual(await describeCaller(600, read), ['bash (its prompt)', 'python3 sync.py', 'sh -c oauth-anywhere token']);
  });

  it('reads the real process tree on Linux: a prompt, a script, bash -lc', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const folder = mkdtempSync(join(tmpdir(), 'oauth-anywhere-caller-'));
    const script = join(folder, 'innocent.sh');
    writeFileSync(script, '#!/bin/bash\nsleep 30 & echo $!\nwait\n', { mode: 0o755 });
    // A shell without a script or command stands for the terminal's prompt; each child below "runs the command".
    // Its own process group: everything it starts ends with it.
    const shell = spawn('sh', [], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    const lines: string[] = [];
    shell.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    const nextPid = async () => {
      const seen = lines.length;
      while (lines.length === seen) await new Promise((resolve) => setTimeout(resolve, 10));
      return Number(lines[seen]);
    };
    try {
      shell.stdin.write('timeout 30 sleep 30 & echo $!\n');
      const timeoutPid = await nextPid();
      let children = '';
      while (!children.trim()) children = await readFile(`/proc/${timeoutPid}/task/${timeoutPid}/children`, 'utf8');
      assert.deepEqual(await describeCaller(Number(children.trim())), ['sh (its prompt)', 'timeout 30 sleep 30']);
      shell.stdin.write(`${script} &\n`);
      assert.deepEqual(await describeCaller(await nextPid()), ['sh (its prompt)', `/bin/bash ${script}`]);
      shell.stdin.write("bash -lc 'sleep 30 & echo $!; wait' &\n");
      assert.deepEqual(await describeCaller(await nextPid()), ['sh (its prompt)', 'bash -lc sleep 30 & echo $!; wait']);
    } finally {
      process.kill(-shell.pid!, 'SIGKILL');
      rmSync(folder, { recursive: true, force: true });
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
