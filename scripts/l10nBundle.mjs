#!/usr/bin/env node
// l10n/bundle.l10n.json: every string of the `l10n.t(...)` calls in src/, as @vscode/l10n-dev
// exports it. Translators start from it (bundle.l10n.<locale>.json next to it); package.json's
// "l10n" points VS Code there.
//
//   node scripts/l10nBundle.mjs           writes it afresh
//   node scripts/l10nBundle.mjs --check   fails, naming the strings, when it is not current (npm test)
//
// Only calls of the form `l10n.t('text', ...)` are found: a shell module that takes the translate
// function as a parameter names that parameter `l10n` and calls `l10n.t(...)`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundleFile = path.join(root, 'l10n', 'bundle.l10n.json');
const cli = createRequire(import.meta.url).resolve('@vscode/l10n-dev/dist/cli.js');
const check = process.argv.includes('--check');

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-anywhere-l10n-'));
try {
  // Its output (including a warning that the temporary folder is not package.json's "l10n") is
  // shown only when the export fails.
  execFileSync(process.execPath, [cli, 'export', '--outDir', outDir, path.join(root, 'src')], { cwd: root, stdio: 'pipe' });
  const exported = fs.readFileSync(path.join(outDir, 'bundle.l10n.json'), 'utf8');
  if (!check) {
    fs.mkdirSync(path.dirname(bundleFile), { recursive: true });
    fs.writeFileSync(bundleFile, exported);
    console.log(`l10n: ${Object.keys(JSON.parse(exported)).length} strings written to ${path.relative(root, bundleFile)}.`);
  } else {
    const want = Object.keys(JSON.parse(exported));
    const have = fs.existsSync(bundleFile) ? Object.keys(JSON.parse(fs.readFileSync(bundleFile, 'utf8'))) : [];
    const missing = want.filter((key) => !have.includes(key));
    const stale = have.filter((key) => !want.includes(key));
    if (missing.length || stale.length) {
      for (const key of missing) console.error(`l10n: missing from ${path.relative(root, bundleFile)}: ${JSON.stringify(key)}`);
      for (const key of stale) console.error(`l10n: no longer in src/: ${JSON.stringify(key)}`);
      console.error('l10n: run `node scripts/l10nBundle.mjs` to bring it up to date.');
      process.exit(1);
    }
    console.log(`l10n: ${path.relative(root, bundleFile)} holds the ${want.length} strings of src/.`);
  }
} finally {
  fs.rmSync(outDir, { recursive: true, force: true });
}
