// The `oauth-anywhere` command (dist/cli.js, a bundle of its own so that it starts as fast as Node).
import { exitCodes } from './terminal/protocol.js';
import { run, say } from './terminal/cli/main.js';

run(process.argv.slice(2), process.env).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    say(error instanceof Error ? error.message : String(error));
    process.exitCode = exitCodes.failed;
  },
);
