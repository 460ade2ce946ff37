// Runs the test git server (gitServer.ts) as its own process, for the end-to-end tier.
//
//   node --import tsx test/support/git-server-cli.ts --userinfo URL [--repository demo]
//
// Creates the repository (one commit with README.md), then prints one JSON line on stdout once it
// listens: {"origin":..., "repositoryUrl":..., "root":...}. Stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { startGitServer } from './gitServer.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { userinfo: { type: 'string' }, repository: { type: 'string', default: 'demo' } } });
  if (!values.userinfo) throw new Error('--userinfo URL is required: the identity provider that decides which tokens the server accepts.');
  const server = await startGitServer({ userinfoUrl: values.userinfo });
  server.createRepository(values.repository, { 'README.md': `# ${values.repository}\n\nServed by the OAuth Anywhere test git server.\n` });
  process.stdout.write(`${JSON.stringify({ origin: server.origin, repositoryUrl: server.repositoryUrl(values.repository), root: server.root })}\n`);
  const stop = () => void server.close().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
