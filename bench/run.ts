// Benchmarks: prints a table and writes bench/results/bench.json. Figures, never assertions.
// Usage: npm run bench [-- --only name,name] (the other sections' figures in the file are kept)
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchActivation } from './activation.js';
import { benchActivationStarts } from './activationStarts.js';
import { benchBundle } from './bundle.js';
import { benchSignIn } from './signIn.js';
import { benchSessions } from './sessions.js';
import { benchWindows } from './windows.js';
import { benchTerminal } from './terminal.js';
import type { Figure } from './figures.js';
import { mergeResults } from './results.js';

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
  const measured: Record<string, Figure[]> = {};
  for (const [name, run] of Object.entries(sections)) {
    if (only && !only.has(name)) continue;
    process.stderr.write(`bench: ${name}...\n`);
    measured[name] = await run();
  }
  printTable(Object.values(measured).flat());
  const outDir = join(__dirname, 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'bench.json');
  const results = mergeResults(readPrevious(file), { at: new Date().toISOString(), node: process.version, sections: measured });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const kept = Object.keys(results.sections).filter((name) => !(name in measured));
  console.log(`\nwritten: ${file}${kept.length ? ` (kept from earlier runs: ${kept.join(', ')})` : ''}`);
}

/** The results file as it is; unreadable, it is replaced (and said so), never a reason to lose this run. */
function readPrevious(file: string): unknown {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    process.stderr.write(`bench: ${file} is not JSON (${error instanceof Error ? error.message : String(error)}); writing it afresh.\n`);
    return undefined;
  }
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
