import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentialHelperEntries, gitConfigVariables } from '../src/terminal/gitEnvironment.js';
import { startTestIdp } from '../test/support/idp.js';
import { commandPath, gitCredentialHelper } from '../test/support/terminalCommand.js';
import { openTestWindow } from '../test/support/terminalWindow.js';
import { median, percentile, type Figure } from './figures.js';

const runs = 40;
const goalRatio = 1.3;

/**
 * Start-up cost of the terminal tools with a valid session: `oauth-anywhere token` and `git
 * credential fill` through the helper, as real processes against a window's endpoint, next to two
 * floors measured in the same run: `node -e ""`, and Node plus one bare IPC round trip (a socket
 * client and an echo server: what any command that asks a window must do). The runs are
 * interleaved so that all see the same machine load. Every child runs without NODE_OPTIONS and
 * NODE_EXTRA_CA_CERTS, which would add the same cost to each Node start and flatter the ratios.
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
    const { variables } = gitConfigVariables({}, credentialHelperEntries(['https://git.example.com'], gitCredentialHelper()));
    const env = window.env({ HOME: scratch, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', NODE_OPTIONS: undefined, NODE_EXTRA_CA_CERTS: undefined, ...variables });
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
    const ipcFloor = median(samples.ipcFloor);
    const ratio = (name: 'token' | 'gitFill', base: number): Figure => {
      const value = median(samples[name]) / base;
      return { name: `terminal: ${name === 'token' ? 'token' : 'git credential fill'} / ${base === floor ? 'node -e ""' : '(node + IPC round trip)'}`, value, unit: 'x', goal: `<= ${goalRatio}`, met: value <= goalRatio };
    };
    const p90 = (name: keyof typeof samples) => percentile(samples[name], 90).toFixed(1);
    return [
      { name: 'terminal: node -e ""', value: floor, unit: 'ms', note: `median of ${runs} interleaved runs (p90 ${p90('floor')} ms)` },
      { name: 'terminal: node + one IPC round trip', value: ipcFloor, unit: 'ms', note: `a bare socket client against an echo server (p90 ${p90('ipcFloor')} ms)` },
      { name: 'terminal: oauth-anywhere token', value: median(samples.token), unit: 'ms', note: `valid session; sh (bin/oauth-anywhere) -> node dist/cli.js -> the window (p90 ${p90('token')} ms)` },
      ratio('token', floor),
      ratio('token', ipcFloor),
      { name: 'terminal: git credential fill', value: median(samples.gitFill), unit: 'ms', note: `git -> sh -> node dist/cli.js git-credential get -> the window (p90 ${p90('gitFill')} ms)` },
      ratio('gitFill', floor),
      ratio('gitFill', ipcFloor),
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
