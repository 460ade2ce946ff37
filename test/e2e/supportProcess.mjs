// A TypeScript program from test/support (the test IdP, the git server) as a child process: Node 20
// (this process's node) with tsx, in its own process group, killed on stop(), on SIGINT/SIGTERM/SIGHUP
// and when this process exits. The program announces itself with one JSON line on stdout.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { killGroup, trackGroup, untrackGroup } from './processGroups.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');

/**
 * Starts `node --import tsx <script> ...args` and waits for its JSON line.
 *
 * @param {object} options
 * @param {string} options.script  path below the repository root
 * @param {string[]} [options.args]
 * @param {NodeJS.ProcessEnv} options.env
 * @param {string} options.what  how errors name the program
 * @param {(chunk: string) => void} [options.onStderr]
 * @returns {Promise<{announced: any, pid: number, stderr: () => string, exited: Promise<any>, stop: () => Promise<void>}>}
 */
export async function startSupportProcess({ script, args = [], env, what, onStderr }) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  trackGroup(child.pid);

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    onStderr?.(chunk);
  });

  let exited;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve((exited = { code, signal })));
    child.on('error', (error) => resolve((exited = { code: null, signal: null, error })));
  });

  const announced = await new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s:\n${stderr}`)), 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buffer.slice(0, newline)));
      } catch {
        reject(new Error(`${what} printed something else than its JSON line: ${buffer}`));
      }
    });
    // exitPromise never rejects (a spawn error resolves it too).
    exitPromise.then(
      (info) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited before it listened (${JSON.stringify(info)}):\n${stderr}`));
      },
      () => {},
    );
  }).catch(async (error) => {
    killGroup(child.pid, 'SIGKILL');
    untrackGroup(child.pid);
    throw error;
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      killGroup(child.pid, 'SIGTERM');
      await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 5000).unref())]);
    }
    killGroup(child.pid, 'SIGKILL');
    untrackGroup(child.pid);
  };
  return { announced, pid: child.pid, stderr: () => stderr, exited: exitPromise, stop };
}
