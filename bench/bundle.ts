import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from './figures.js';

const root = join(__dirname, '..');
/** Measured in code-server 4.139.1 (FACTS.md); used when no provisioned code-server is at hand. */
const reference = { 'github-authentication': 230_203, 'microsoft-authentication': 480_352 };

/** The production bundle's bytes, against the built-in auth extensions' bundles. */
export async function benchBundle(): Promise<Figure[]> {
  execFileSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: root, stdio: 'ignore' });
  const bytes = statSync(join(root, 'dist/extension.js')).size;
  const command = statSync(join(root, 'dist/cli.js')).size;
  const total = bytes + command;
  const figures: Figure[] = [
    { name: 'bundle dist/extension.js (minified; the whole extension)', value: bytes, unit: 'bytes' },
    { name: 'bundle dist/cli.js (minified; the oauth-anywhere command)', value: command, unit: 'bytes' },
    { name: 'bundle: all JavaScript shipped', value: total, unit: 'bytes' },
  ];
  for (const [name, fallback] of Object.entries(reference)) {
    const found = findBuiltIn(name);
    const anchor = found ? statSync(found).size : fallback;
    const ratio = bytes / anchor;
    figures.push({
      name: `bundle / ${name}`,
      value: ratio,
      unit: 'x',
      ...(name === 'github-authentication' ? { goal: '<= 0.25', met: ratio <= 0.25 } : {}),
      note: `${anchor.toLocaleString('en-US')} bytes, ${found ? 'measured in the provisioned code-server' : 'from FACTS.md (code-server not provisioned)'}; all shipped JS: ${(total / anchor).toFixed(2)}x`,
    });
  }
  return figures;
}

/** The built-in extension's bundle inside the code-server the end-to-end tier provisions. */
function findBuiltIn(name: string): string | undefined {
  const path = join(root, '.cache/e2e/code-server/node_modules/code-server/lib/vscode/extensions', name, 'dist/extension.js');
  return existsSync(path) ? path : undefined;
}
