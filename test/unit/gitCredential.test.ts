// git's credential-helper protocol both ways: what git writes to a helper, parsed; what the helper
// answers, read back by real git (`git credential fill` with the answer coming from a helper).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { credentialAnswer, formatCredentialAnswer, gitTargetOf, parseCredentialInput } from '../../src/terminal/gitCredential.js';

describe('git credential protocol', () => {
  it('parses what git sends: attributes up to the blank line, last value wins, list entries skipped', () => {
    const fields = parseCredentialInput('capability[]=authtype\nprotocol=https\nhost=Git.Example.com:8443\npath=group/repo.git\nusername=me\nusername=you\n\nprotocol=ignored\n');
    assert.equal(fields.get('protocol'), 'https');
    assert.equal(fields.get('username'), 'you');
    assert.equal(fields.get('path'), 'group/repo.git');
    assert.equal(fields.has('capability[]'), false);
    assert.deepEqual(gitTargetOf(fields), { protocol: 'https', host: 'git.example.com:8443' });
  });

  it('takes the url attribute when protocol and host are absent, and nothing from garbage', () => {
    assert.deepEqual(gitTargetOf(parseCredentialInput('url=http://127.0.0.1:8080/repo.git\n')), { protocol: 'http', host: '127.0.0.1:8080' });
    assert.equal(gitTargetOf(parseCredentialInput('url=not a url\n')), undefined);
    assert.equal(gitTargetOf(parseCredentialInput('')), undefined);
    assert.equal(gitTargetOf(parseCredentialInput('=x\nnoequals\nhost=h\n')), undefined);
  });

  it('answers username, password and password_expiry_utc (whole seconds), and refuses line breaks', () => {
    assert.equal(credentialAnswer('oauth2', 'tok', 1_800_000_000_999), 'username=oauth2\npassword=tok\npassword_expiry_utc=1800000000\n');
    assert.equal(credentialAnswer('oauth2', 'tok', undefined), 'username=oauth2\npassword=tok\n');
    assert.throws(() => formatCredentialAnswer([['password', 'a\nb']]), /line break/);
  });

  it('real git reads the answer back', () => {
    const folder = mkdtempSync(join(tmpdir(), 'oauth-anywhere-credential-'));
    try {
      const helper = join(folder, 'helper');
      const answer = credentialAnswer('x-access-token', 'opaque.token-value', Date.now() + 3600_000);
      writeFileSync(helper, `#!/bin/sh\n[ "$1" = get ] && printf '%s' '${answer}'\n`, { mode: 0o755 });
      const run = spawnSync('git', ['credential', 'fill'], {
        input: 'protocol=https\nhost=git.example.com\n\n',
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: folder, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'credential.helper', GIT_CONFIG_VALUE_0: helper },
      });
      assert.equal(run.status, 0, run.stderr);
      const filled = parseCredentialInput(run.stdout);
      assert.equal(filled.get('username'), 'x-access-token');
      assert.equal(filled.get('password'), 'opaque.token-value');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
