// Benchmarks: prints a table and writes bench/results/bench.json. Figures, never assertions.
// Usage: npm run bench [-- --only name,name]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchActivation } from './activation.js';
import { benchActivationStarts } from './activationStarts.js';
import { benchBundle } from './bundle.js';
import { benchSignIn } from './signIn.js';
import { benchSessions } from './sessions.js';
import { benchWindows } from './windows.js';
import { benchTerminal } from './terminal.js';
import type { Figure } from './figures.js';

const sections: Record<string, () => Promise<Figure[]>> = {
  bundle: benchBundle,
  activation: benchActivation,
  activationStarts: () => benchActivationStarts({ starts: 9 }),
  signIn: benchSignIn,
  sessions: benchSessions,
  windows: benchWindows,
  terminal: benchTerminal,
};

async function main(): Promise<void> {
  const onlyArgument = process.argv.indexOf('--only');
  const only = onlyArgument > 0 ? new Set(process.argv[onlyArgument + 1]!.split(',')) : undefined;
  const figures: Figure[] = [];
  for (const [name, run] of Object.entries(sections)) {
    if (only && !only.has(name)) continue;
    process.stderr.write(`bench: ${name}...\n`);
    figures.push(...(await run()));
  }
  printTable(figures);
  const outDir = join(__dirname, 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'bench.json');
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), node: process.version, figures }, null, 2)}\n`);
  console.log(`\nwritten: ${file}`);
}

function printTable(figures: Figure[]): void {
  const rows = figures.map((figure) => [figure.name, `${format(figure.value)} ${figure.unit}`, figure.goal ?? '', figure.met === undefined ? '' : figure.met ? 'met' : 'NOT met', figure.note ?? '']);
  const header = ['figure', 'value', 'goal', 'status', 'note'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

function format(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(value < 10 ? 3 : 1);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
