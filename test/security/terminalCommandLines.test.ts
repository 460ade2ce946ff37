// A command's arguments are public on Linux: /proc/<pid>/cmdline is readable by every user of the
// machine (ps shows it). The README's way of handing the token to curl must keep it out of every
// process's arguments: the example is taken from the README itself and run with real curl against
// a local API, which looks at every process's arguments while curl's request is in flight.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { readmeSection } from '../support/readme.js';
import { closeServer, listen } from '../support/resourceServer.js';
import { runTool } from '../support/terminalCommand.js';
import { openTestWindow, type TestWindow } from '../support/terminalWindow.js';

/** Every process's arguments, as any user of the machine can read them. */
function everyCommandLine(): string[] {
  const lines: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      lines.push(readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' '));
    } catch {
      // The process ended meanwhile.
    }
  }
  return lines;
}

describe("the README's curl example keeps the token off every command line", { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  let idp: TestIdp;
  let window: TestWindow;

  before(async () => {
    idp = await startTestIdp({ deviceInterval: 0.02 });
    window = await openTestWindow(idp);
  });
  after(async () => {
    await window?.close();
    await idp?.close();
  });

  it('command lines are readable by every user here', () => {
    assert.equal(statSync('/proc/self/cmdline').mode & 0o444, 0o444);
  });

  it('curl gets the token, and no process shows it in its arguments meanwhile', async () => {
    const session = await window.manager.createSession([]);
    // The paragraph that recommends a way: "**curl and any other CLI**: `...`".
    const examples = readmeSection('In the terminal')
      .split('\n')
      .filter((line) => line.startsWith('**curl'))
      .flatMap((line) => [...line.matchAll(/`([^`]+)`/g)].map((match) => match[1]!))
      .filter((code) => code.includes('oauth-anywhere token'));
    assert.ok(examples.length > 0, 'the README shows how to use the token with curl');

    const seen: Array<{ authorization?: string; leaked: string[] }> = [];
    // While curl's request is here, curl and whatever fed it the token are running: look at them all.
    const api = createServer((request, response) => {
      seen.push({ authorization: request.headers.authorization, leaked: everyCommandLine().filter((line) => line.includes(session.accessToken)).map((line) => line.replaceAll(session.accessToken, '<the access token>')) });
      response.end('{}');
    });
    const port = await listen(api, '127.0.0.1');
    try {
      for (const example of examples) {
        const command = example.replace(/https:\/\/api\.example\.com\S*/, `http://127.0.0.1:${port}/me`);
        assert.notEqual(command, example, `the example names https://api.example.com: ${example}`);
        const run = await runTool('sh', ['-c', `${command} --fail --silent --show-error`], { env: window.env() });
        assert.equal(run.code, 0, `${example}: ${run.stderr}`);
      }
    } finally {
      await closeServer(api);
    }
    assert.equal(seen.length, examples.length);
    for (const request of seen) {
      assert.equal(request.authorization, `Bearer ${session.accessToken}`, 'curl sent the token');
      assert.deepEqual(request.leaked, [], 'no command line carries the token');
    }
  });
});
