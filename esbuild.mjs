// One CommonJS bundle for VS Code's extension host (Node). `--production` minifies for the VSIX;
// otherwise a development build with source maps. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { statSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const outfile = 'dist/extension.js';

const options = {
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile,
  platform: 'node',
  format: 'cjs',
  // VS Code 1.106 runs extensions on Electron 37's Node 22; code-server 4.139 on Node 24.
  target: 'node22',
  external: ['vscode'],
  minify: production,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  legalComments: production ? 'none' : 'inline',
  logLevel: 'warning',
  metafile: true,
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log(`Watching; ${outfile} rebuilds on change.`);
} else {
  await esbuild.build(options);
  const bytes = statSync(outfile).size;
  console.log(`${outfile}: ${bytes.toLocaleString('en-US')} bytes (${production ? 'minified' : 'development'})`);
}
