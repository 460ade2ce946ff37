// Builds the extension as users get it: `npm run package` (minified bundle + vsce 3.9.1 on this
// process's Node 20), then copies dist/oauth-anywhere.vsix to outDir, so a later build in the
// working tree cannot change what a test or the sandbox installed.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { killGroup, trackGroup, untrackGroup } from './processGroups.mjs';
import { REPO_ROOT, cleanEnv } from './provision.mjs';

/**
 * @param {string} outDir
 * @param {{timeoutMs?: number}} [options]
 * @returns {Promise<{vsix: string, bytes: number, output: string[]}>} output: vsce's summary lines
 */
export async function packageExtension(outDir, { timeoutMs = 5 * 60_000 } = {}) {
  fs.mkdirSync(outDir, { recursive: true });
  const output = await new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'package'], {
      cwd: REPO_ROOT,
      env: cleanEnv(undefined),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own group: a timeout or Ctrl+C stops esbuild and vsce too
    });
    trackGroup(child.pid);
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    const timer = setTimeout(() => killGroup(child.pid), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      untrackGroup(child.pid);
      if (code === 0) resolve(text);
      else reject(new Error(`npm run package failed (${code ?? signal}):\n${text.slice(-3000)}`));
    });
  });
  const vsix = path.join(outDir, 'oauth-anywhere.vsix');
  fs.copyFileSync(path.join(REPO_ROOT, 'dist', 'oauth-anywhere.vsix'), vsix);
  return {
    vsix,
    bytes: fs.statSync(vsix).size,
    output: output.split('\n').filter((line) => /DONE|dist\/extension\.js:/.test(line)).map((line) => line.trim()),
  };
}
