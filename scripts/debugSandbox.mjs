#!/usr/bin/env node
// The test identity provider for the F5 configuration "Run Extension: sandbox identity provider"
// (.vscode/launch.json): a real oidc-provider with the user "demo" on 127.0.0.1:28140, and the
// extension development host's own user settings pointed at it. Runs as a background task until
// VS Code ends it; prints "[debug sandbox] ready" once both are in place (the task's end pattern).
//
//   node scripts/debugSandbox.mjs [--port N] [--state-dir DIR]
//
// The desktop development host signs in through the loopback redirect, so the IdP listens on
// 127.0.0.1 (127.0.0.2, which the code-server sandbox uses, is not routed on macOS).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startIdpProcess } from '../test/e2e/idpProcess.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { port: { type: 'string', default: '28140' }, 'state-dir': { type: 'string', default: path.join(repoRoot, '.cache', 'debug-sandbox') } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`[debug sandbox] --port must be a port number, got "${values.port}"`);
  process.exit(2);
}
const stateDir = path.resolve(values['state-dir']);

const idpLog = path.join(stateDir, 'idp.log');
fs.mkdirSync(stateDir, { recursive: true });
fs.writeFileSync(idpLog, '');

let idp;
try {
  idp = await startIdpProcess({ host: '127.0.0.1', port, deviceInterval: 2, onStderr: (chunk) => fs.appendFileSync(idpLog, chunk) });
} catch (error) {
  console.error(`[debug sandbox] the test identity provider did not start on 127.0.0.1:${port} (${error instanceof Error ? error.message : String(error)}).`);
  console.error('[debug sandbox] Is one still running from an earlier F5? End it in the Terminal panel (trash icon), or pass another --port in .vscode/tasks.json and .vscode/launch.json.');
  process.exit(1);
}

// The settings live in the development host's own profile (--user-data-dir in launch.json), so the
// contributor's own VS Code settings are never touched. Other settings there are kept.
const settingsFile = path.join(stateDir, 'user-data', 'User', 'settings.json');
fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
fs.mkdirSync(path.join(stateDir, 'workspace'), { recursive: true });
let settings = {};
try {
  settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
} catch {
  // none yet, or hand-edited with comments: start over
}
Object.assign(settings, {
  'oauthAnywhere.issuer': idp.issuer,
  'oauthAnywhere.clientId': idp.clientId,
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
});
fs.writeFileSync(settingsFile, `${JSON.stringify(settings, null, 2)}\n`);

// For whoever must clean up after a task that was killed outright (its exit handler then never runs).
fs.writeFileSync(path.join(stateDir, 'idp.pid'), `${idp.pid}\n`);

console.log(`[debug sandbox] test identity provider ${idp.issuer} (user "demo", client "${idp.clientId}"); settings in ${path.relative(repoRoot, settingsFile)}`);
console.log('[debug sandbox] ready: sign in from the Accounts menu of the development host and approve as demo.');
const exited = await idp.exited;
console.error(`[debug sandbox] the test identity provider exited (${JSON.stringify(exited)}); log: ${idpLog}`);
process.exit(1);
