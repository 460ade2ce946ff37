// The `oauth-anywhere` command as the VSIX installs it (bin/oauth-anywhere next to dist/cli.js),
// built from the current sources into a scratch folder once per test process, and a way to run it
// as a real process the way a terminal would.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { credentialHelperCommand } from '../../src/terminal/gitEnvironment.js';
import { recordOutput } from './secretLedger.js';

const repoRoot = join(__dirname, '..', '..');
let installed: string | undefined;

/** The folder holding bin/oauth-anywhere and dist/cli.js (removed when the process exits). */
export function commandInstallation(): string {
  if (installed) return installed;
  const root = mkdtempSync(join(tmpdir(), 'oauth-anywhere-cli-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const build = spawnSync(process.execPath, ['esbuild.mjs', '--only', 'cli', '--outdir', join(root, 'dist')], { cwd: repoRoot, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`Building the command failed: ${build.stderr}`);
  mkdirSync(join(root, 'bin'));
  // copyFileSync keeps the mode: the test runs the script as git and kubectl would, by its execute bit.
  copyFileSync(join(repoRoot, 'bin', 'oauth-anywhere'), join(root, 'bin', 'oauth-anywhere'));
  installed = root;
  return root;
}

export function commandPath(): string {
  return join(commandInstallation(), 'bin', 'oauth-anywhere');
}

/** git's credential helper as VS Code's terminals have it configured: this Node running the command's bundle. */
export function gitCredentialHelper(): string {
  return credentialHelperCommand(process.execPath, join(commandInstallation(), 'dist', 'cli.js'));
}

/** A terminal's environment: the window's variables, the command's folder first on PATH, this Node as the extension host's. */
export function terminalEnvironment(variables: Record<string, string>, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    OAUTH_ANYWHERE_NODE: process.execPath,
    ...variables,
    PATH: `${join(commandInstallation(), 'bin')}${delimiter}${process.env.PATH ?? ''}`,
    ...extra,
  };
}

export interface ToolRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningTool {
  pid: number;
  /** Resolves once stderr has a line matching. */
  stderrLine(pattern: RegExp): Promise<string>;
  kill(signal: NodeJS.Signals): void;
  done: Promise<ToolRun>;
}

/** Starts a program (the command, git, kubectl) as a terminal would; its stderr goes to the log ledger for the secret-leak scan. */
export function startTool(program: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; input?: string; cwd?: string }): RunningTool {
  const child = spawn(program, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const waiter of [...waiters]) {
      const line = stderr.split('\n').find((candidate) => waiter.pattern.test(candidate));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  // A program that exits without reading its input (git config) closes the pipe first: nothing to report.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  const done = new Promise<ToolRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      recordOutput(`${program.split('/').pop()} ${args.join(' ')} (stderr)`, stderr);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid!,
    stderrLine: (pattern) => new Promise((resolve) => waiters.push({ pattern, resolve })),
    kill: (signal) => void child.kill(signal),
    done,
  };
}

export function runTool(program: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; input?: string; cwd?: string }): Promise<ToolRun> {
  return startTool(program, args, options).done;
}
