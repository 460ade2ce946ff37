// The `oauth-anywhere` command's entry point (dist/cli.js, a bundle of its own so that it starts as
// fast as Node; started by bin/oauth-anywhere).
import { exitCodes } from '../protocol.js';
import { run, say } from './main.js';

run(process.argv.slice(2), process.env).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    say(error instanceof Error ? error.message : String(error));
    process.exitCode = exitCodes.failed;
  },
);
