// Two CommonJS bundles for VS Code's extension host (Node): dist/extension.js, loaded at activation
// (the shell and the session store), and dist/core.js, the OAuth core it loads on first use
// (src/loadCore.ts). `--production` minifies for the VSIX; otherwise a development build with source
// maps. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { statSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const outputs = ['dist/extension.js', 'dist/core.js', 'dist/qr.js'];

const options = {
  entryPoints: { extension: 'src/extension.ts', core: 'src/core.ts', qr: 'src/qr.ts' },
  bundle: true,
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  // VS Code 1.106 runs extensions on Electron 37's Node 22; code-server 4.139 on Node 24.
  target: 'node22',
  // The core stays a file of its own, required when first needed.
  external: ['vscode', './core.js', './qr.js'],
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
  console.log(`Watching; ${outputs.join(' and ')} rebuild on change.`);
} else {
  await esbuild.build(options);
  for (const output of outputs) {
    console.log(`${output}: ${statSync(output).size.toLocaleString('en-US')} bytes (${production ? 'minified' : 'development'})`);
  }
}
