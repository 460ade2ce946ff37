// CommonJS bundles for Node: dist/extension.js, the whole extension (one bundle: loading the OAuth
// core as a second one on first use saved no measurable activation time, see bench/activationStarts.ts),
// and dist/cli.js, the `oauth-anywhere` command for terminal tools (started by bin/oauth-anywhere,
// so it stays small). `--production` minifies for the VSIX; otherwise a development build with
// source maps. `--watch` rebuilds on change. `--only cli --outdir DIR` builds just the command (tests).
import * as esbuild from 'esbuild';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { production: { type: 'boolean' }, watch: { type: 'boolean' }, only: { type: 'string' }, outdir: { type: 'string', default: 'dist' } },
});
const production = values.production === true;
const allEntries = { extension: 'src/extension.ts', cli: 'src/terminal/cli/entry.ts' };
const entryPoints = values.only ? { [values.only]: allEntries[values.only] } : allEntries;
const outputs = Object.keys(entryPoints).map((name) => join(values.outdir, `${name}.js`));

const options = {
  entryPoints,
  bundle: true,
  outdir: values.outdir,
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

if (values.watch) {
  // One line per problem and a line at each start and end of a build: the background problem
  // matcher of the "watch" task in .vscode/tasks.json reads these.
  const reportBuilds = {
    name: 'report-builds',
    setup(build) {
      build.onStart(() => console.log('[watch] build started'));
      build.onEnd(({ errors, warnings }) => {
        for (const [severity, messages] of [['error', errors], ['warning', warnings]]) {
          for (const { location, text } of messages) {
            console.log(location ? `${location.file}:${location.line}:${location.column + 1}: ${severity}: ${text}` : `${severity}: ${text}`);
          }
        }
        console.log(`[watch] build finished with ${errors.length} error(s), ${warnings.length} warning(s)`);
      });
    },
  };
  const context = await esbuild.context({ ...options, logLevel: 'silent', plugins: [reportBuilds] });
  await context.watch();
  console.log(`Watching; ${outputs.join(', ')} rebuild on change.`);
} else {
  await esbuild.build(options);
  for (const output of outputs) {
    console.log(`${output}: ${statSync(output).size.toLocaleString('en-US')} bytes (${production ? 'minified' : 'development'})`);
  }
}
