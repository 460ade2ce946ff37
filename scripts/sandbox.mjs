#!/usr/bin/env node
// `npm start`: try OAuth Anywhere in real VS Code (code-server in your browser) against the test
// identity provider, or against your own.
//
//   npm start                                         test IdP with user "demo" on 127.0.0.2
//   npm start -- --issuer URL --client-id ID          your identity provider instead
//   npm start -- --help                               all options
//
// It provisions what it needs under .cache/e2e (Node 24, code-server; the first run takes a few
// minutes), builds and packages the extension, starts the IdP and code-server with the freshly
// built VSIX installed and configured, prints the URL and what to do, and stops everything on
// Ctrl+C (SIGINT) or SIGTERM.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const e2e = (name) => import(new URL(`../test/e2e/${name}`, import.meta.url).href);

const HELP = `OAuth Anywhere sandbox: the extension in VS Code (code-server) in your browser.

Usage: npm start [-- options]

  --issuer URL        sign in at this identity provider instead of the local test IdP
  --client-id ID      its public (native) client id; needed with --issuer
  --flow MODE         oauthAnywhere.flow: auto (default), device or loopback
  --scopes "A B"      oauthAnywhere.scopes (default: the extension's default)
  --port N            code-server port on 127.0.0.1 (default: a free port)
  --idp-port N        test IdP port on 127.0.0.2 (default: a free port)
  --state-dir DIR     where the sandbox keeps its workspace and VS Code profile
                      (default: .cache/sandbox; the profile is fresh on every start)
  -h, --help          this text

Stop it with Ctrl+C.`;

function say(message) {
  process.stdout.write(`[sandbox] ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[sandbox] ${message}\n`);
  process.exit(2);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        flow: { type: 'string' },
        scopes: { type: 'string' },
        port: { type: 'string' },
        'idp-port': { type: 'string' },
        'state-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(`${error.message}\n\n${HELP}`);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const port = (name) => {
    const value = values[name];
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`--${name} must be a port number, got "${value}"`);
    return n;
  };
  if (values.issuer !== undefined) {
    let url;
    try {
      url = new URL(values.issuer);
    } catch {
      fail(`--issuer must be a URL, got "${values.issuer}"`);
    }
    if (!values['client-id']) fail('--issuer needs --client-id: the client id of a public (native) client registered there.');
    const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname);
    if (url.protocol !== 'https:' && !loopback) fail(`--issuer must use https (plain http is only allowed for loopback addresses), got ${url.href}`);
  } else if (values['client-id']) {
    fail('--client-id goes with --issuer; without --issuer the sandbox uses its own test IdP and client.');
  }
  if (values.flow !== undefined && !['auto', 'device', 'loopback'].includes(values.flow)) fail(`--flow must be auto, device or loopback, got "${values.flow}"`);
  return {
    issuer: values.issuer,
    clientId: values['client-id'],
    flow: values.flow,
    scopes: values.scopes?.split(/[\s,]+/).filter(Boolean),
    port: port('port'),
    idpPort: port('idp-port'),
    stateDir: path.resolve(values['state-dir'] ?? path.join(REPO_ROOT, '.cache', 'sandbox')),
  };
}

async function main() {
  const options = parseOptions();
  const { handleSignalsItself } = await e2e('processGroups.mjs');
  const started = Date.now();
  const running = { server: undefined, idp: undefined };
  let stopping = false;

  const stop = async (why, exitCode) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping code-server${running.idp ? ' and the test IdP' : ''}...`);
    await running.server?.stop().catch(() => {});
    await running.idp?.stop().catch(() => {});
    say('stopped.');
    process.exit(exitCode);
  };
  // stop() ends the process; should it throw on the way, the sandbox still exits, saying why.
  const stopAndExit = (why, exitCode) => {
    stop(why, exitCode).catch((error) => {
      console.error(error);
      process.exit(1);
    });
  };
  handleSignalsItself();
  process.on('SIGINT', () => stopAndExit('Ctrl+C', 0));
  process.on('SIGTERM', () => stopAndExit('SIGTERM', 0));
  process.on('SIGHUP', () => stopAndExit('SIGHUP', 0));

  say('provisioning Node 24, code-server 4.139.1 and the Debian packages it needs (the first run takes a few minutes; later runs are instant)...');
  const { provision } = await e2e('provision.mjs');
  const provisioned = await provision();
  if (stopping) return;

  say('building and packaging the extension (npm run package)...');
  const { packageExtension } = await e2e('extensionPackage.mjs');
  fs.mkdirSync(options.stateDir, { recursive: true });
  const { vsix, bytes } = await packageExtension(path.join(options.stateDir, 'vsix'));
  say(`packaged ${path.relative(REPO_ROOT, vsix) || vsix} (${Math.round(bytes / 1024)} KB)`);
  if (stopping) return;

  let issuer = options.issuer;
  let clientId = options.clientId;
  if (!issuer) {
    say('starting the test identity provider (oidc-provider) on 127.0.0.2 with the demo user...');
    const { startIdpProcess } = await e2e('idpProcess.mjs');
    const idpLog = path.join(options.stateDir, 'idp.log');
    fs.writeFileSync(idpLog, '');
    running.idp = await startIdpProcess({
      port: options.idpPort,
      // Snappier than the RFC's default 5 s, still a real polling interval.
      deviceInterval: 2,
      onStderr: (chunk) => fs.appendFileSync(idpLog, chunk),
    });
    ({ issuer, clientId } = running.idp);
    running.idp.exited.then(
      (info) => {
        if (!stopping) stopAndExit(`the test IdP exited (${JSON.stringify(info)}; log ${idpLog})`, 1);
      },
      () => {},
    );
  } else {
    say(`using your identity provider ${issuer} with client id ${clientId}`);
  }
  if (stopping) return;

  const { DEFAULT_SETTINGS, installExtension, startCodeServer } = await e2e('codeServer.mjs');
  const userDataDir = path.join(options.stateDir, 'user-data');
  const extensionsDir = path.join(options.stateDir, 'extensions');
  const folder = path.join(options.stateDir, 'workspace');
  // A fresh VS Code profile each time: settings point at this run's IdP (a new port each run).
  fs.rmSync(userDataDir, { recursive: true, force: true });
  fs.rmSync(extensionsDir, { recursive: true, force: true });
  fs.mkdirSync(folder, { recursive: true });
  const readme = path.join(folder, 'README.md');
  if (!fs.existsSync(readme)) {
    fs.writeFileSync(readme, '# OAuth Anywhere sandbox\n\nA scratch workspace for `npm start`. Open the Accounts menu (bottom left) to sign in.\n');
  }

  say('installing the extension into code-server...');
  await installExtension(vsix, extensionsDir, { provisioned });
  if (stopping) return;

  const settings = {
    ...DEFAULT_SETTINGS,
    'workbench.startupEditor': 'readme',
    'oauthAnywhere.issuer': issuer,
    'oauthAnywhere.clientId': clientId,
    ...(options.flow ? { 'oauthAnywhere.flow': options.flow } : {}),
    ...(options.scopes ? { 'oauthAnywhere.scopes': options.scopes } : {}),
  };
  say('starting code-server...');
  const logFile = path.join(options.stateDir, 'code-server.log');
  fs.writeFileSync(logFile, '');
  running.server = await startCodeServer({
    provisioned,
    extensionsDir,
    userDataDir,
    folder,
    settings,
    defaultSettings: false,
    port: options.port,
    logFile,
    scratchDir: path.join(options.stateDir, 'home'),
  });
  running.server.exited.then(
    (info) => {
      if (!stopping) stopAndExit(`code-server exited (${JSON.stringify(info)}; log ${logFile})`, 1);
    },
    () => {},
  );
  if (stopping) return;

  // For tools that need to clean up after a sandbox that could not stop itself (kill -9).
  fs.writeFileSync(path.join(options.stateDir, 'pids.json'), `${JSON.stringify({ sandbox: process.pid, codeServer: running.server.pid, idp: running.idp?.pid })}\n`);
  const url = running.server.url;
  const lines = [
    '',
    `OAuth Anywhere sandbox is ready (${((Date.now() - started) / 1000).toFixed(0)} s).`,
    '',
    `  VS Code (code-server):  ${url}`,
    running.idp
      ? `  Test identity provider: ${issuer}  (one user: "demo"; client "${clientId}")`
      : `  Identity provider:      ${issuer}  (client "${clientId}")`,
    `  OAuth Anywhere's log:   ${path.join(userDataDir, 'logs')}/<time>/exthost<N>/oauth-anywhere.oauth-anywhere/`,
    '',
    'What to do:',
    `  1. Open ${url} in a browser on this machine.`,
    '  2. Open the Accounts menu (the person icon at the bottom of the left bar) and choose',
    '     "Sign in with OAuth Anywhere to use OAuth Anywhere".',
    ...(options.flow === 'loopback'
      ? [
          '  3. Let code-server open the identity provider in a new tab (Open), and sign in there',
          running.idp ? '     (Approve, as user demo). The tab then says you are signed in.' : '     with your account. The tab then says you are signed in.',
        ]
      : [
          '  3. A notification shows a code. Click "Copy code and open browser" (or open the URL it',
          '     names and type the code), then Continue.',
          running.idp ? '  4. Approve, as user demo.' : '  4. Sign in at your identity provider and approve.',
        ]),
    running.idp ? '  The Accounts menu now shows "demo (OAuth Anywhere)".' : '  The Accounts menu now shows your account.',
    '  Commands (F1): "OAuth Anywhere: Sign In", "Sign Out", "Show Log".',
    '',
    'Stop with Ctrl+C.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error) => {
  process.stderr.write(`[sandbox] failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
