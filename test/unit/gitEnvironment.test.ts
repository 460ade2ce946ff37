// The terminal environment's git configuration: our entries after any GIT_CONFIG_* already there,
// checked with real git, which must see both the user's entries and ours, and still ask VS Code's
// askpass for hosts that are not ours.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { credentialHelperCommand, credentialHelperEntries, gitConfigVariables, shellQuote } from '../../src/terminal/gitEnvironment.js';
import { gitUsername, matchesGitTarget, parseGitHost, parseGitHosts, type GitHost } from '../../src/terminal/gitHosts.js';

describe('git configuration in the terminal environment', () => {
  it('numbers our entries after the existing ones and counts them all', () => {
    const existing = { GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'user.name', GIT_CONFIG_VALUE_0: 'Someone', GIT_CONFIG_KEY_1: 'core.editor', GIT_CONFIG_VALUE_1: 'vi' };
    const { variables, problem } = gitConfigVariables(existing, credentialHelperEntries(['https://git.example.com'], '!x git-credential'));
    assert.equal(problem, undefined);
    assert.deepEqual(variables, {
      GIT_CONFIG_COUNT: '4',
      GIT_CONFIG_KEY_2: 'credential.https://git.example.com.helper',
      GIT_CONFIG_VALUE_2: '',
      GIT_CONFIG_KEY_3: 'credential.https://git.example.com.helper',
      GIT_CONFIG_VALUE_3: '!x git-credential',
    });
  });

  it('starts at 0 without existing entries, adds nothing without hosts, and leaves a bogus count alone with a reason', () => {
    assert.equal(gitConfigVariables({}, [['a.b', 'c']]).variables.GIT_CONFIG_KEY_0, 'a.b');
    assert.deepEqual(gitConfigVariables({ GIT_CONFIG_COUNT: '3' }, []), { variables: {} });
    const bogus = gitConfigVariables({ GIT_CONFIG_COUNT: 'three' }, [['a.b', 'c']]);
    assert.deepEqual(bogus.variables, {});
    assert.match(bogus.problem!, /GIT_CONFIG_COUNT is "three".*Fix or unset it/);
  });

  it("entries of ours inherited from another window (code . in its terminal) are dropped, the ones after renumbered", () => {
    const otherWindows = credentialHelperCommand('/other/node', '/other/extension/dist/cli.js');
    const inherited = {
      GIT_CONFIG_COUNT: '5',
      GIT_CONFIG_KEY_0: 'user.name',
      GIT_CONFIG_VALUE_0: 'Someone',
      GIT_CONFIG_KEY_1: 'credential.https://git.example.com.helper',
      GIT_CONFIG_VALUE_1: '',
      GIT_CONFIG_KEY_2: 'credential.https://git.example.com.helper',
      GIT_CONFIG_VALUE_2: otherWindows,
      GIT_CONFIG_KEY_3: 'core.editor',
      GIT_CONFIG_VALUE_3: 'vi',
      // The user's own empty helper entry, not followed by ours: kept.
      GIT_CONFIG_KEY_4: 'credential.https://other.example.helper',
      GIT_CONFIG_VALUE_4: '',
    };
    const ours = credentialHelperEntries(['https://git.example.com'], credentialHelperCommand('/node', '/extension/dist/cli.js'));
    assert.deepEqual(gitConfigVariables(inherited, ours).variables, {
      GIT_CONFIG_COUNT: '5',
      GIT_CONFIG_KEY_1: 'core.editor',
      GIT_CONFIG_VALUE_1: 'vi',
      GIT_CONFIG_KEY_2: 'credential.https://other.example.helper',
      GIT_CONFIG_VALUE_2: '',
      GIT_CONFIG_KEY_3: 'credential.https://git.example.com.helper',
      GIT_CONFIG_VALUE_3: '',
      GIT_CONFIG_KEY_4: 'credential.https://git.example.com.helper',
      GIT_CONFIG_VALUE_4: "!ELECTRON_RUN_AS_NODE=1 '/node' '/extension/dist/cli.js' git-credential",
    });
    // A window that serves no terminals: the other window's entries go, nothing of its own comes.
    assert.deepEqual(gitConfigVariables(inherited, []).variables, {
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_1: 'core.editor',
      GIT_CONFIG_VALUE_1: 'vi',
      GIT_CONFIG_KEY_2: 'credential.https://other.example.helper',
      GIT_CONFIG_VALUE_2: '',
    });
    // Applied again to its own result: nothing more to change (a reload adds no copy).
    const once = { ...inherited, ...gitConfigVariables(inherited, ours).variables };
    assert.equal(gitConfigVariables(once, ours).variables.GIT_CONFIG_COUNT, '5');
  });

  it('quotes the helper path for sh, spaces and quotes included', () => {
    assert.equal(shellQuote("/a b/it's"), `'/a b/it'\\''s'`);
    assert.equal(credentialHelperCommand('/opt/node', "/ext dir/it's/cli.js"), `!ELECTRON_RUN_AS_NODE=1 '/opt/node' '/ext dir/it'\\''s/cli.js' git-credential`);
  });

  it("real git: the user's entries stay, our helper answers for our host only, askpass still serves the others", () => {
    const folder = mkdtempSync(join(tmpdir(), 'oauth anywhere git env-'));
    try {
      const helper = join(folder, "bin dir/it's helper");
      spawnSync('mkdir', ['-p', join(folder, 'bin dir')]);
      // Run by sh where the real helper is run by Node: the same command line shape, quoting included.
      writeFileSync(helper, 'echo "$*" >> "$(dirname "$0")/calls"\n[ "$2" = get ] && printf "username=oauth2\\npassword=from-helper\\n"\nexit 0\n');
      const askpass = join(folder, 'askpass');
      writeFileSync(askpass, '#!/bin/sh\necho from-askpass\n', { mode: 0o755 });
      // A global helper that would otherwise answer first (and a store helper that would write the token to disk).
      writeFileSync(join(folder, '.gitconfig'), '[credential]\n\thelper = "!f() { echo username=global; echo password=global-password; }; f"\n');
      const existing = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'user.name', GIT_CONFIG_VALUE_0: 'Someone Else' };
      const { variables } = gitConfigVariables(existing, credentialHelperEntries(['https://git.example.com', 'http://127.0.0.1:8080'], credentialHelperCommand('/bin/sh', helper)));
      const env = { PATH: process.env.PATH, HOME: folder, GIT_CONFIG_NOSYSTEM: '1', GIT_ASKPASS: askpass, ...existing, ...variables };
      const git = (args: string[], input = '') => spawnSync('git', args, { env, input, encoding: 'utf8', cwd: folder });

      assert.equal(git(['config', '--get', 'user.name']).stdout.trim(), 'Someone Else');
      const ours = git(['credential', 'fill'], 'protocol=https\nhost=git.example.com\n\n');
      assert.equal(ours.status, 0, ours.stderr);
      assert.match(ours.stdout, /^password=from-helper$/m);
      const local = git(['credential', 'fill'], 'protocol=http\nhost=127.0.0.1:8080\n\n');
      assert.match(local.stdout, /^password=from-helper$/m);
      const other = git(['credential', 'fill'], 'protocol=https\nhost=elsewhere.example\n\n');
      assert.match(other.stdout, /^password=global-password$/m, "another host keeps the user's helpers");
      assert.equal(spawnSync('cat', [join(folder, 'bin dir', 'calls')], { encoding: 'utf8' }).stdout, 'git-credential get\ngit-credential get\n', 'our helper was asked for our hosts only');

      const noHelpers = { PATH: process.env.PATH, HOME: join(folder, 'nowhere'), GIT_CONFIG_NOSYSTEM: '1', GIT_ASKPASS: askpass, ...existing, ...variables };
      const asked = spawnSync('git', ['credential', 'fill'], { env: noHelpers, cwd: folder, input: 'protocol=https\nhost=elsewhere.example\n\n', encoding: 'utf8' });
      assert.match(asked.stdout, /^password=from-askpass$/m, `askpass still answers hosts that are not ours: ${asked.stdout} ${asked.stderr}`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('gitHosts setting', () => {
  it('host names mean https; ports kept; http only for loopback; paths, user info and junk refused', () => {
    assert.deepEqual(parseGitHost('Git.Example.com'), { origin: 'https://git.example.com', protocol: 'https', host: 'git.example.com', configOrigins: ['https://git.example.com'] });
    assert.deepEqual(parseGitHost('git.example.com:8443'), { origin: 'https://git.example.com:8443', protocol: 'https', host: 'git.example.com:8443', configOrigins: ['https://git.example.com:8443'] });
    assert.deepEqual(parseGitHost('https://git.example.com:443/'), { origin: 'https://git.example.com', protocol: 'https', host: 'git.example.com', configOrigins: ['https://git.example.com'] });
    assert.deepEqual(parseGitHost('http://127.0.0.1:8080'), { origin: 'http://127.0.0.1:8080', protocol: 'http', host: '127.0.0.1:8080', configOrigins: ['http://127.0.0.1:8080'] });
    assert.match((parseGitHost('http://git.example.com') as { problem: string }).problem, /unencrypted/);
    assert.match((parseGitHost('git.example.com/group/repo') as { problem: string }).problem, /host only/);
    assert.match((parseGitHost('https://me@git.example.com') as { problem: string }).problem, /user name/);
    assert.match((parseGitHost('ssh://git.example.com') as { problem: string }).problem, /https/);
    assert.match((parseGitHost('') as { problem: string }).problem, /empty/);
  });

  it('wildcards are refused with the reason: git asks a helper about one exact host', () => {
    for (const entry of ['*.example.com', 'https://*.example.com', 'git.*.example.com']) {
      assert.match((parseGitHost(entry) as { problem: string }).problem, /"[^"]+": wildcards are not supported; git asks for credentials per exact host: list each one, e.g. "git\.example\.com"\./, entry);
    }
    assert.deepEqual(parseGitHosts(['*.example.com', 'git.example.com']).hosts.map((host) => host.origin), ['https://git.example.com']);
  });

  it('default ports and international names match whichever way git writes the host', () => {
    const plain = parseGitHost('git.example.com') as GitHost;
    for (const host of ['git.example.com', 'git.example.com:443', 'GIT.Example.COM:443']) assert.ok(matchesGitTarget(plain, { protocol: 'https', host }), host);
    assert.ok(!matchesGitTarget(plain, { protocol: 'https', host: 'git.example.com:8443' }));
    assert.ok(!matchesGitTarget(plain, { protocol: 'http', host: 'git.example.com:443' }));
    const local = parseGitHost('http://127.0.0.1:80') as GitHost;
    assert.ok(matchesGitTarget(local, { protocol: 'http', host: '127.0.0.1' }));
    assert.ok(matchesGitTarget(local, { protocol: 'http', host: '127.0.0.1:80' }));
    for (const entry of ['gít.example', 'xn--gt-nja.example']) {
      const idn = parseGitHost(entry) as GitHost;
      assert.equal(idn.origin, 'https://xn--gt-nja.example');
      // git matches credential.<url> keys as written: both spellings are configured.
      assert.deepEqual(idn.configOrigins, ['https://xn--gt-nja.example', 'https://gít.example']);
      for (const host of ['gít.example', 'GÍT.example', 'xn--gt-nja.example', 'gít.example:443']) assert.ok(matchesGitTarget(idn, { protocol: 'https', host }), `${entry} ~ ${host}`);
    }
    assert.ok(!matchesGitTarget(plain, { protocol: 'https', host: 'git.example.com\0evil' }));
  });

  it('a list: duplicates dropped, each bad entry named, a non-list refused', () => {
    const parsed = parseGitHosts(['a.example', 'https://a.example', 'http://b.example', 7]);
    assert.deepEqual(parsed.hosts.map((host) => host.origin), ['https://a.example']);
    assert.equal(parsed.problems.length, 2);
    assert.deepEqual(parseGitHosts(undefined), { hosts: [], problems: [] });
    assert.equal(parseGitHosts('a.example').problems.length, 1);
  });

  it('user name: oauth2 by default, the setting, or the account', () => {
    assert.equal(gitUsername(undefined, 'demo'), 'oauth2');
    assert.equal(gitUsername('x-access-token', 'demo'), 'x-access-token');
    assert.equal(gitUsername('${account}', 'demo'), 'demo');
  });
});
