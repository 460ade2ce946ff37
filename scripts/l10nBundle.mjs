#!/usr/bin/env node
// l10n/bundle.l10n.json: every string of the `l10n.t(...)` calls in src/, as @vscode/l10n-dev
// exports it. Translators start from it (bundle.l10n.<locale>.json next to it); package.json's
// "l10n" points VS Code there.
//
//   node scripts/l10nBundle.mjs           writes it afresh
//   node scripts/l10nBundle.mjs --check   fails, naming the strings, when it is not current (npm test)
//
// Only calls of the form `vscode.l10n.t('text', ...)` or `l10n.t('text', ...)` are found, and
// @vscode/l10n-dev reads only files that import 'vscode'. The pure modules of src/vscode/ that take
// the translate function as a parameter (so that unit tests run them in plain Node) call it as
// `l10n.t(...)` too; the copy of src/ this script hands to l10n-dev gives them that import. Texts
// kept as data and translated where they are shown (the failure table of errorMessages.ts, shown
// through `t(text.happened)`) are added from the module itself.
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

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-anywhere-l10n-'));
const outDir = path.join(scratch, 'out');
try {
  const sources = path.join(scratch, 'src');
  fs.cpSync(path.join(root, 'src'), sources, { recursive: true });
  for (const file of fs.readdirSync(sources, { recursive: true, encoding: 'utf8' })) {
    const full = path.join(sources, file);
    if (!file.endsWith('.ts')) continue;
    const text = fs.readFileSync(full, 'utf8');
    if (/\bl10n\.t\(/.test(text) && !/from 'vscode';/.test(text)) fs.writeFileSync(full, `import type * as vscode from 'vscode';\n${text}`);
  }
  // A translate function called under another name (`t('...')`) is invisible to l10n-dev: its text
  // would silently stay English. Such calls fail the script, naming each.
  const unseen = untranslatableCalls(sources);
  if (unseen.length) {
    for (const where of unseen) console.error(`l10n: ${where}: call it as l10n.t('...') (const l10n = { t }), which l10n-dev reads`);
    process.exit(1);
  }
  // Its output (including a warning that the temporary folder is not package.json's "l10n") is
  // shown only when the export fails.
  execFileSync(process.execPath, [cli, 'export', '--outDir', outDir, sources], { cwd: root, stdio: 'pipe' });
  const bundle = { ...JSON.parse(fs.readFileSync(path.join(outDir, 'bundle.l10n.json'), 'utf8')) };
  for (const text of tableTexts()) bundle[text] ??= text;
  const exported = `${JSON.stringify(bundle, null, 2)}\n`;
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
  fs.rmSync(scratch, { recursive: true, force: true });
}

/**
 * Calls of a translate function that l10n-dev cannot see, as "file:line": `t('text'`, or
 * `anything.t('text'` other than `l10n.t(` (the text may start on the next line).
 */
function untranslatableCalls(sources) {
  const found = [];
  for (const file of fs.readdirSync(sources, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    const text = fs.readFileSync(path.join(sources, file), 'utf8');
    for (const call of text.matchAll(/([\w$]+\.)?\bt\(\s*['"`]/g)) {
      if (call[1] === 'l10n.') continue;
      found.push(`src/${file}:${text.slice(0, call.index).split('\n').length}`);
    }
  }
  return found;
}

/** The texts of errorMessages.ts's failure table, read from the module (run with tsx). */
function tableTexts() {
  const read = `import('./src/vscode/errorMessages.ts').then((m) => {
    const { reasonTexts } = m.reasonTexts ? m : m.default;
    process.stdout.write(JSON.stringify(Object.values(reasonTexts).flatMap((text) => [text.happened, text.todo])));
  })`;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', read], { cwd: root, encoding: 'utf8' }));
}
