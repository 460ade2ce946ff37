// The folders of one end-to-end run: artifacts to keep, and a scratch folder (user data, extensions,
// the IdP's secret ledger) removed when the process exits, after every code-server it started.

import fs from 'node:fs';
import path from 'node:path';

import { newArtifactsDir } from './browser.mjs';
import { killAllCodeServers, makeTempDir } from './codeServer.mjs';

export function runFolders(label) {
  const artifactsDir = newArtifactsDir(label);
  const work = makeTempDir(label);
  // Also on Ctrl+C: the scratch folder holds the IdP's secret ledger.
  process.once('exit', () => {
    killAllCodeServers(); // first, so nothing writes into the folder while it goes
    fs.rmSync(work, { recursive: true, force: true });
  });
  return {
    artifactsDir,
    work,
    secretLedger: path.join(work, 'secret-ledger.jsonl'),
    userDataDir: path.join(work, 'user-data'),
    extensionsDir: path.join(work, 'extensions'),
  };
}
