// Starts and stops code-server (VS Code 1.139.1 in the browser) for the end-to-end tests, and
// installs extensions into its extensions folder.
//
//   const server = await startCodeServer({ extensionsDir, userDataDir, folder, settings });
//   ... server.url ...
//   await server.stop();
//
// Every code-server runs in its own process group; the group is killed on stop(), on SIGINT,
// SIGTERM and SIGHUP, and when this process exits (also after an uncaught error), so a failing
// test leaves no server behind (processGroups.mjs).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { killGroup, killTrackedGroups, trackGroup, untrackGroup } from './processGroups.mjs';
import { TMP_ROOT, cleanEnv, provision } from './provision.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const CONSUMER_DIR = path.join(HERE, 'consumer');

/** Settings written under the caller's: quiet first start, no network, no AI chat surfaces. */
export const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'git.enabled': false,
  'npm.autoDetect': 'off',
  'typescript.tsserver.enable': false,
};

// ---------------------------------------------------------------------------------------------
// Process-group bookkeeping and cleanup

/** Kills every code-server (and install run) this process started and did not stop yet. */
export function killAllCodeServers() {
  killTrackedGroups();
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A free TCP port on host: bind port 0, read it, close. */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** A fresh folder under .cache/e2e/tmp (or the given parent). */
export function makeTempDir(prefix, parent = TMP_ROOT) {
  fs.mkdirSync(parent, { recursive: true });
  return fs.mkdtempSync(path.join(parent, `${prefix}-`));
}

/**
 * code-server asks its extension gallery (open-vsx.org) for extension metadata on every window
 * load. These runs stay on 127.0.0.0/8: the gallery is pointed at a closed loopback port, so the
 * query fails at once instead of going out (or waiting for DNS).
 */
const OFFLINE_GALLERY = JSON.stringify({
  serviceUrl: 'http://127.0.0.1:1/vscode/gallery',
  itemUrl: 'http://127.0.0.1:1/vscode/item',
  resourceUrlTemplate: 'http://127.0.0.1:1/vscode/asset/{publisher}/{name}/{version}/Microsoft.VisualStudio.Code.WebResources/{path}',
  controlUrl: '',
  nlsBaseUrl: '',
  publisherUrl: '',
});

/**
 * Environment for code-server: the real one minus npm_* / VSCODE_* (inside a VS Code terminal
 * VSCODE_IPC_HOOK_CLI would turn code-server into a CLI client) and code-server's own password
 * variables, with HOME, XDG_* and TMPDIR in a scratch folder, Node 24 first on PATH and the
 * extension gallery on a closed loopback port.
 */
function serverEnv(provisioned, scratchDir, extra = {}) {
  const env = cleanEnv(provisioned.nodeBinDir);
  for (const key of Object.keys(env)) {
    if (/^(VSCODE_|ELECTRON_)/.test(key) || ['PASSWORD', 'HASHED_PASSWORD', 'PORT'].includes(key)) {
      delete env[key];
    }
  }
  const dirs = {
    HOME: path.join(scratchDir, 'home'),
    XDG_CONFIG_HOME: path.join(scratchDir, 'home', '.config'),
    XDG_DATA_HOME: path.join(scratchDir, 'home', '.local', 'share'),
    XDG_CACHE_HOME: path.join(scratchDir, 'home', '.cache'),
    XDG_STATE_HOME: path.join(scratchDir, 'home', '.local', 'state'),
    XDG_RUNTIME_DIR: path.join(scratchDir, 'runtime'),
    TMPDIR: path.join(scratchDir, 'tmp'),
  };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { ...env, ...dirs, EXTENSIONS_GALLERY: OFFLINE_GALLERY, ...extra };
}

function tailOf(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// code-server

/**
 * Starts code-server and waits until /healthz answers.
 *
 * @param {object} options
 * @param {string} options.extensionsDir   --extensions-dir (created if missing)
 * @param {string} options.userDataDir     --user-data-dir; settings go to <userDataDir>/User/settings.json
 * @param {string} [options.folder]        folder to open (created if missing)
 * @param {object} [options.settings]      user settings, written over DEFAULT_SETTINGS
 * @param {boolean} [options.defaultSettings=true]  include DEFAULT_SETTINGS
 * @param {number} [options.port]          default: a free port
 * @param {string} [options.host='127.0.0.1']
 * @param {string} [options.scratchDir]    HOME/XDG/TMPDIR root; default: fresh, removed on stop()
 * @param {string} [options.logFile]       code-server's stdout+stderr; default <scratchDir>/code-server.log
 * @param {string[]} [options.args]        extra code-server arguments
 * @param {object} [options.env]           extra environment variables
 * @param {number} [options.timeoutMs=60000] how long to wait for /healthz
 * @returns {Promise<{url: string, port: number, host: string, pid: number, logFile: string,
 *   scratchDir: string, folder?: string, timings: {healthzMs: number}, stop: () => Promise<void>}>}
 */
export async function startCodeServer(options) {
  const {
    extensionsDir,
    userDataDir,
    folder,
    settings = {},
    defaultSettings = true,
    host = '127.0.0.1',
    args = [],
    env: extraEnv = {},
    timeoutMs = 60_000,
  } = options;
  if (!extensionsDir || !userDataDir) throw new Error('startCodeServer needs extensionsDir and userDataDir');
  const provisioned = options.provisioned ?? (await provision());

  const ownScratch = !options.scratchDir;
  const scratchDir = options.scratchDir ?? makeTempDir('code-server');
  const logFile = options.logFile ?? path.join(scratchDir, 'code-server.log');
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  if (folder) fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify({ ...(defaultSettings ? DEFAULT_SETTINGS : {}), ...settings }, null, 2) + '\n',
  );

  const port = options.port ?? (await freePort(host));
  const argv = [
    provisioned.codeServerEntry,
    '--bind-addr',
    `${host}:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--reconnection-grace-time',
    '10',
    ...args,
    ...(folder ? [folder] : []),
  ];
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  const started = Date.now();
  const child = spawn(provisioned.nodeBin, argv, {
    cwd: scratchDir,
    env: serverEnv(provisioned, scratchDir, extraEnv),
    stdio: ['ignore', out, out],
    detached: true, // own process group: stop() kills the extension host and helpers too
  });
  fs.closeSync(out);
  trackGroup(child.pid);

  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    child.on('error', (err) => {
      exited = { code: null, signal: null, error: err };
      resolve(exited);
    });
  });

  let stopped = false;
  const stop = async ({ timeoutMs: stopTimeout = 5000 } = {}) => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      killGroup(child.pid, 'SIGTERM');
      const timer = new Promise((r) => setTimeout(r, stopTimeout).unref());
      await Promise.race([exitPromise, timer]);
    }
    // Always sweep the group: helpers (extension host, file watcher) may outlive the main process.
    killGroup(child.pid, 'SIGKILL');
    untrackGroup(child.pid);
    if (ownScratch && !options.keepScratch) {
      if (path.dirname(logFile) === scratchDir) {
        // The log lives in the scratch folder: keep it, drop the rest.
        for (const entry of fs.readdirSync(scratchDir)) {
          if (entry !== path.basename(logFile)) {
            fs.rmSync(path.join(scratchDir, entry), { recursive: true, force: true, maxRetries: 3 });
          }
        }
      } else {
        fs.rmSync(scratchDir, { recursive: true, force: true, maxRetries: 3 });
      }
    }
  };

  const url = `http://${host}:${port}/`;
  const deadline = started + timeoutMs;
  for (;;) {
    if (exited) {
      untrackGroup(child.pid);
      throw new Error(
        `code-server exited before it was healthy (${JSON.stringify(exited)}). Log ${logFile}:\n${tailOf(logFile)}`,
      );
    }
    try {
      const res = await httpGet(`${url}healthz`, 1000);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer /healthz within ${timeoutMs} ms. Log ${logFile}:\n${tailOf(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    host,
    pid: child.pid,
    logFile,
    scratchDir,
    folder,
    timings: { healthzMs: Date.now() - started },
    exited: exitPromise,
    stop,
  };
}

// ---------------------------------------------------------------------------------------------
// Extensions

function runNode(provisioned, argv, { env, timeoutMs = 120_000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(provisioned.nodeBin, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    trackGroup(child.pid);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      killGroup(child.pid, 'SIGKILL');
      untrackGroup(child.pid);
      if (code === 0) resolve(output);
      else reject(new Error(`${path.basename(argv[0])} ${argv.slice(1).join(' ')} failed (${code ?? signal}):\n${output}`));
    });
  });
}

/**
 * Installs a VSIX into extensionsDir with `code-server --install-extension` (works while a
 * code-server using that folder runs; a running window picks it up after a reload).
 * @returns {Promise<string>} code-server's output
 */
export async function installExtension(vsixPath, extensionsDir, { userDataDir, provisioned } = {}) {
  provisioned ??= await provision();
  const scratchDir = makeTempDir('install-extension');
  try {
    fs.mkdirSync(extensionsDir, { recursive: true });
    const argv = [
      provisioned.codeServerEntry,
      '--install-extension',
      path.resolve(vsixPath),
      '--force',
      '--extensions-dir',
      extensionsDir,
      ...(userDataDir ? ['--user-data-dir', userDataDir] : ['--user-data-dir', path.join(scratchDir, 'user-data')]),
    ];
    const output = await runNode(provisioned, argv, { env: serverEnv(provisioned, scratchDir), cwd: scratchDir });
    if (!/successfully installed/i.test(output)) {
      throw new Error(`installing ${vsixPath} did not report success:\n${output}`);
    }
    return output;
  } finally {
    fs.rmSync(scratchDir, { recursive: true, force: true });
  }
}

/**
 * Packages test/e2e/consumer as a VSIX with the repository's vsce (3.9.x runs on Node 20).
 * @returns {Promise<string>} path of the VSIX
 */
export async function packageConsumer(outDir) {
  const provisioned = await provision();
  const vsce = path.join(provisioned.repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  if (!fs.existsSync(vsce)) throw new Error(`vsce not found at ${vsce}: run npm ci in the repository first`);
  fs.mkdirSync(outDir, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(CONSUMER_DIR, 'package.json'), 'utf8'));
  const out = path.join(outDir, `${manifest.publisher}.${manifest.name}-${manifest.version}.vsix`);
  await new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', out],
      { cwd: CONSUMER_DIR, env: cleanEnv(undefined), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`vsce package failed (${code}):\n${output}`)),
    );
  });
  return out;
}
