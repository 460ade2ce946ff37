import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentialHelperCommand, credentialHelperEntries, gitConfigVariables } from '../src/terminal/gitEnvironment.js';
import { startTestIdp } from '../test/support/idp.js';
import { commandPath } from '../test/support/terminalCommand.js';
import { openTestWindow } from '../test/support/terminalWindow.js';
import { median, percentile, type Figure } from './figures.js';

const runs = 40;
const goalRatio = 1.3;

/**
 * Start-up cost of the terminal tools with a valid session: `oauth-anywhere token` and `git
 * credential fill` through the helper, as real processes against a window's endpoint, next to the
 * floor measured in the same run: `node -e ""`, and Node plus one bare IPC round trip. The runs are
 * interleaved so that all three see the same machine load.
 */
export async function benchTerminal(): Promise<Figure[]> {
  const idp = await startTestIdp({ deviceInterval: 0.02 });
  const window = await openTestWindow(idp, { gitHosts: ['git.example.com'] });
  const echo = createServer((socket) => socket.on('data', (chunk) => socket.end(chunk)));
  const scratch = mkdtempSync(join(tmpdir(), 'oauth-anywhere-bench-'));
  const echoPath = join(scratch, 'echo.sock');
  await new Promise<void>((resolve) => echo.listen(echoPath, resolve));
  try {
    await window.manager.createSession([]);
    const { variables } = gitConfigVariables({}, credentialHelperEntries(['https://git.example.com'], credentialHelperCommand(commandPath())));
    const env = window.env({ HOME: scratch, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', ...variables });
    const programs = {
      floor: () => timed(process.execPath, ['-e', ''], env),
      ipcFloor: () => timed(process.execPath, ['-e', `require('net').connect(${JSON.stringify(echoPath)}).on('connect',function(){this.write('x\\n')}).on('data',function(){this.destroy()})`], env),
      token: () => timed(commandPath(), ['token'], env, '', (stdout) => stdout.trim().length > 20),
      gitFill: () => timed('git', ['credential', 'fill'], env, 'protocol=https\nhost=git.example.com\n\n', (stdout) => /^password=.{20,}$/m.test(stdout)),
    };
    // Warm-up: file caches, and the one consent question each tool kind asks.
    for (const run of Object.values(programs)) await run();
    const samples: Record<keyof typeof programs, number[]> = { floor: [], ipcFloor: [], token: [], gitFill: [] };
    for (let i = 0; i < runs; i++) {
      for (const [name, run] of Object.entries(programs) as Array<[keyof typeof programs, () => Promise<number>]>) samples[name].push(await run());
    }
    const floor = median(samples.floor);
    const ratio = (name: 'token' | 'gitFill') => median(samples[name]) / floor;
    const note = `median of ${runs} interleaved runs; p90 ${percentile(samples.floor, 90).toFixed(1)} / ${percentile(samples.token, 90).toFixed(1)} / ${percentile(samples.gitFill, 90).toFixed(1)} ms (floor / token / git)`;
    return [
      { name: 'terminal: node -e "" (the floor)', value: floor, unit: 'ms', note },
      { name: 'terminal: node + one IPC round trip', value: median(samples.ipcFloor), unit: 'ms', note: 'a bare socket client against an echo server' },
      { name: 'terminal: oauth-anywhere token', value: median(samples.token), unit: 'ms', note: 'valid session; bin/oauth-anywhere (sh) + dist/cli.js + the window answering' },
      { name: 'terminal: token / floor', value: ratio('token'), unit: 'x', goal: `<= ${goalRatio}`, met: ratio('token') <= goalRatio },
      { name: 'terminal: git credential fill', value: median(samples.gitFill), unit: 'ms', note: 'git -> sh -> bin/oauth-anywhere -> dist/cli.js' },
      { name: 'terminal: git credential fill / floor', value: ratio('gitFill'), unit: 'x', goal: `<= ${goalRatio}`, met: ratio('gitFill') <= goalRatio },
    ];
  } finally {
    echo.close();
    await window.close();
    await idp.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Wall time of one run, spawn to exit; a run that does not answer as expected fails the bench. */
function timed(program: string, args: string[], env: NodeJS.ProcessEnv, input = '', answered: (stdout: string) => boolean = () => true): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stdin.end(input);
    child.once('error', reject);
    child.once('close', (code) => {
      const elapsed = performance.now() - started;
      if (code !== 0 || !answered(stdout)) reject(new Error(`${program} ${args.join(' ')} exited with ${code} without the expected answer`));
      else resolve(elapsed);
    });
  });
}
