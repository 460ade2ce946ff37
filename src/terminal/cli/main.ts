// The `oauth-anywhere` command in VS Code's integrated terminals (bin/oauth-anywhere runs its
// bundle, dist/cli.js from src/terminal/cli/entry.ts, with the extension host's Node). It asks the window that opened the terminal
// for a token over the window's endpoint and prints it in the shape the calling tool wants. It must
// start about as fast as Node itself, so it imports only what a request needs.
import { readFileSync } from 'node:fs';
import { execCredential, readExecInfo } from '../execCredential.js';
import { credentialAnswer, gitTargetOf, parseCredentialInput } from '../gitCredential.js';
import { endpointVariable, exitCodeOf, exitCodes, secretVariable, type Credential, type ProviderStatus, type Reply, type TerminalRequest } from '../protocol.js';
import { parseCommand, usage, type Command } from './args.js';
import { ask, WindowGoneError } from './ipcClient.js';
import { isPrintableToken, printable, printableJson } from './terminalText.js';

const notInVsCode = `This command gets its tokens from VS Code and works in the integrated terminals of a VS Code window with OAuth Anywhere (${endpointVariable} is not set here).`;
const accessOff = 'Terminal access is off in the VS Code window of this terminal: see the setting "oauthAnywhere.terminal.enabled", and whether the workspace is trusted ("Workspaces: Manage Workspace Trust"). Open a new terminal after changing either.';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Runs the command; resolves with its exit code. Messages go to stderr, tokens only to stdout.
 * Everything printed passes through terminalText: it may come from the identity provider.
 */
export async function run(argv: readonly string[], env: Environment): Promise<number> {
  const command = parseCommand(argv);
  if ('problem' in command) {
    say(`${command.problem} See "oauth-anywhere --help".`);
    return exitCodes.usage;
  }
  switch (command.verb) {
    case 'help':
      process.stdout.write(usage);
      return exitCodes.ok;
    case 'git-credential':
      return gitCredential(command.action, env);
    case 'status':
      return status(command.json, env);
    case 'token':
    case 'kubectl':
      return token(command, env);
  }
}

async function token(command: Extract<Command, { verb: 'token' | 'kubectl' }>, env: Environment): Promise<number> {
  const execInfo = command.verb === 'kubectl' ? readExecInfo(env.KUBERNETES_EXEC_INFO) : undefined;
  if (execInfo && 'unsupported' in execInfo) {
    say(`kubectl asked for an ExecCredential this command does not speak (${execInfo.unsupported}); set the kubeconfig's exec apiVersion to client.authentication.k8s.io/v1 (or v1beta1).`);
    return exitCodes.usage;
  }
  const common = { signIn: command.signIn, ...(command.provider ? { provider: command.provider } : {}), ...(command.scopes ? { scopes: command.scopes } : {}) };
  const request: TerminalRequest = execInfo ? { verb: 'kubectl', ...common, ...(execInfo.cluster ? { cluster: execInfo.cluster } : {}) } : { verb: 'token', ...common };
  const reply = await converse(env, request);
  if (typeof reply === 'number') return reply;
  if (reply.kind !== 'credential') return unexpected(reply);
  const { credential } = reply;
  if (execInfo) {
    process.stdout.write(`${JSON.stringify(execCredential(execInfo.apiVersion, credential.accessToken, credential.expiresAt))}\n`);
    return exitCodes.ok;
  }
  const output = command.verb === 'token' ? command.output : 'token';
  if (output === 'json') {
    process.stdout.write(`${printableJson(tokenJson(credential))}\n`);
    return exitCodes.ok;
  }
  if (!isPrintableToken(credential.accessToken)) {
    say(`The access token from ${credential.provider.label} contains characters no access token may have (RFC 6749: printable ASCII only), so it is not printed. Tell whoever runs that identity provider.`);
    return exitCodes.failed;
  }
  process.stdout.write(output === 'header' ? `Authorization: Bearer ${credential.accessToken}\n` : `${credential.accessToken}\n`);
  return exitCodes.ok;
}

async function gitCredential(action: 'get' | 'store' | 'erase', env: Environment): Promise<number> {
  const fields = parseCredentialInput(await readStdin());
  // The token lives in VS Code: there is nothing for git to store here.
  if (action === 'store') return exitCodes.ok;
  const target = gitTargetOf(fields);
  if (!target) return exitCodes.ok;
  if (action === 'erase') {
    const password = fields.get('password');
    if (!password) return exitCodes.ok;
    const reply = await converse(env, { verb: 'git-erase', target, token: password });
    return typeof reply === 'number' ? reply : reply.kind === 'done' ? exitCodes.ok : unexpected(reply);
  }
  const reply = await converse(env, { verb: 'git-get', target, signIn: true });
  if (typeof reply === 'number') return reply;
  // Not a host of ours: no answer, and git asks its next helper.
  if (reply.kind === 'nothing') return exitCodes.ok;
  if (reply.kind !== 'credential') return unexpected(reply);
  process.stdout.write(credentialAnswer(reply.credential.username ?? 'oauth2', reply.credential.accessToken, reply.credential.expiresAt));
  return exitCodes.ok;
}

async function status(json: boolean, env: Environment): Promise<number> {
  const reply = await converse(env, { verb: 'status' });
  if (typeof reply === 'number') return reply;
  if (reply.kind !== 'status') return unexpected(reply);
  process.stdout.write(json ? `${printableJson(reply.providers)}\n` : statusText(reply.providers));
  return exitCodes.ok;
}

/** The window's outcome, or the exit code when there is none to work with (already explained on stderr). */
async function converse(env: Environment, request: TerminalRequest): Promise<Reply | number> {
  const endpoint = env[endpointVariable];
  const secret = env[secretVariable];
  // A window that does not serve its terminals sets its variables to '' (windowTerminals.ts).
  if (endpoint === '') {
    say(accessOff);
    return exitCodes.refused;
  }
  if (!endpoint || !secret) {
    say(notInVsCode);
    return exitCodes.noWindow;
  }
  const conversation = ask(endpoint, secret, request, say);
  const interrupted = () => {
    conversation.hangUp();
    say('cancelled.');
    process.exit(exitCodes.cancelled);
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.once(signal, interrupted);
  try {
    const reply = await conversation.reply;
    if (reply.kind !== 'error') return reply;
    say(reply.message);
    return exitCodeOf[reply.code] ?? exitCodes.failed;
  } catch (error) {
    if (!(error instanceof WindowGoneError)) throw error;
    say(error.message);
    return exitCodes.noWindow;
  } finally {
    for (const signal of signals) process.off(signal, interrupted);
  }
}

function tokenJson(credential: Credential): Record<string, unknown> {
  return {
    access_token: credential.accessToken,
    token_type: 'Bearer',
    ...(credential.expiresAt !== undefined
      ? { expires_at: new Date(credential.expiresAt).toISOString(), expires_in: Math.max(0, Math.floor((credential.expiresAt - Date.now()) / 1000)) }
      : {}),
    scope: credential.scopes.join(' '),
    account: credential.account,
    provider: credential.provider.id,
  };
}

function statusText(providers: readonly ProviderStatus[]): string {
  const lines: string[] = [];
  for (const provider of providers) {
    lines.push(`${provider.label} (${provider.id})${provider.problem ? `: not set up: ${provider.problem}` : ''}`);
    if (!provider.problem && !provider.sessions.length) lines.push('  not signed in');
    for (const session of provider.sessions) {
      const expiry = session.expiresAt === undefined ? 'no expiry given' : `token ${session.expiresAt > Date.now() ? 'expires' : 'expired'} ${new Date(session.expiresAt).toISOString()}`;
      lines.push(`  ${session.account}: ${expiry}; scopes ${session.scopes.join(' ') || '(none)'}`);
    }
    if (provider.gitHosts.length) lines.push(`  git hosts: ${provider.gitHosts.join(', ')}`);
    if (provider.alwaysAllowed.length) lines.push(`  always allowed: ${provider.alwaysAllowed.join(', ')}`);
  }
  return `${lines.map(printable).join('\n')}\n`;
}

function unexpected(reply: Reply): number {
  say(`The VS Code window answered "${reply.kind}", which this command did not expect. Open a new terminal; the window may run another version of OAuth Anywhere.`);
  return exitCodes.failed;
}

export function say(message: string): void {
  process.stderr.write(`oauth-anywhere: ${printable(message)}\n`);
}

/**
 * What git wrote, up to the end of input. Read synchronously from fd 0: git writes the whole request
 * and closes the pipe, and this skips setting up process.stdin (a few ms of a ~30 ms start).
 */
function readStdin(): Promise<string> {
  try {
    return Promise.resolve(readFileSync(0, 'utf8'));
  } catch {
    // A non-blocking stdin (EAGAIN): read it as a stream.
    return new Promise((resolve) => {
      let text = '';
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (chunk: string) => (text += chunk));
      process.stdin.once('end', () => resolve(text));
      process.stdin.once('error', () => resolve(text));
    });
  }
}
