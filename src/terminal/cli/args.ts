export type Command =
  | { verb: 'token'; provider?: string; scopes?: string[]; output: TokenOutput; signIn: boolean }
  | { verb: 'kubectl'; provider?: string; scopes?: string[]; signIn: boolean }
  | { verb: 'git-credential'; action: 'get' | 'store' | 'erase' }
  | { verb: 'status'; json: boolean }
  | { verb: 'help' };

/** `token` prints the bare token, JSON with its expiry, or an HTTP header line (for `curl -H @-`). */
export type TokenOutput = 'token' | 'json' | 'header';

export const usage = `oauth-anywhere: tokens from your VS Code sign-in (OAuth Anywhere) for tools in VS Code's terminal.

  oauth-anywhere token [--provider ID] [--scopes "a b"] [--json | --header] [--no-sign-in]
      Prints a valid access token (refreshed when needed). --json adds its expiry, scopes and account;
      --header prints "Authorization: Bearer <token>" for curl to read from stdin, which keeps the
      token out of the command line, where every user of the machine can see it:
        oauth-anywhere token --header | curl -H @- https://api.example.com/
  oauth-anywhere git-credential get|store|erase
      git's credential helper for the hosts in the "gitHosts" setting (VS Code's terminals are set up).
  oauth-anywhere kubectl [--provider ID] [--scopes "a b"] [--no-sign-in]
      kubectl's exec credential plugin (client.authentication.k8s.io/v1 and v1beta1).
  oauth-anywhere status [--json]
      Providers, accounts and expiry. No secrets.

  --provider ID    an entry of "oauthAnywhere.providers" ("work" or "oauth-anywhere.work"); default: the main one
  --scopes "a b"   scopes the token must carry; default: the provider's configured scopes
  --no-sign-in     fail with exit code 3 instead of signing in when there is no session

A tool's first request asks in VS Code (Allow Once: this request; Always Allow for This Tool; Deny).
With no session, VS Code signs in and this command waits; Ctrl+C cancels that sign-in.

Exit codes: 0 done; 1 failed (sign-in or identity provider); 2 wrong usage; 3 not signed in (--no-sign-in);
4 refused (denied, terminal access off, untrusted workspace); 5 no VS Code window (not in its terminal,
or the window closed); 130 cancelled with Ctrl+C.
`;

/** The command line as a Command, or a message saying what is wrong with it. */
export function parseCommand(argv: readonly string[]): Command | { problem: string } {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') return { verb: 'help' };
  switch (verb) {
    case 'token':
    case 'kubectl': {
      const parsed = parseOptions(rest, ['provider', 'scopes'], ['json', 'header', 'no-sign-in']);
      if ('problem' in parsed) return parsed;
      const { values, flags } = parsed;
      if (verb === 'kubectl' && (flags.has('json') || flags.has('header'))) return { problem: `kubectl always gets JSON; --${flags.has('json') ? 'json' : 'header'} is for "token".` };
      if (flags.has('json') && flags.has('header')) return { problem: 'Choose one of --json and --header.' };
      const provider = values.get('provider');
      const scopes = values.get('scopes')?.split(/[\s,]+/).filter(Boolean);
      const common = { ...(provider ? { provider } : {}), ...(scopes?.length ? { scopes } : {}), signIn: !flags.has('no-sign-in') };
      return verb === 'token' ? { verb, output: flags.has('json') ? 'json' : flags.has('header') ? 'header' : 'token', ...common } : { verb, ...common };
    }
    case 'git-credential': {
      const action = rest.at(-1);
      if (action === 'get' || action === 'store' || action === 'erase') return { verb, action };
      return { problem: 'git-credential takes get, store or erase (git adds it).' };
    }
    case 'status': {
      const parsed = parseOptions(rest, [], ['json']);
      return 'problem' in parsed ? parsed : { verb, json: parsed.flags.has('json') };
    }
    default:
      return { problem: `Unknown command "${verb}".` };
  }
}

interface Options {
  values: Map<string, string>;
  flags: Set<string>;
}

/**
 * `--name value`, `--name=value` and `--flag`. Written out rather than node:util's parseArgs, whose
 * first use costs about 2 ms: a tenth of Node's own start-up, in a command run for every git fetch.
 */
function parseOptions(args: readonly string[], valued: readonly string[], flagNames: readonly string[]): Options | { problem: string } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) return { problem: `Unexpected argument "${arg}".` };
    const name = match[1]!;
    const inline = match[2];
    if (flagNames.includes(name) && inline === undefined) flags.add(name);
    else if (valued.includes(name)) {
      const value = inline ?? args[++index];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) return { problem: `Option "--${name}" needs a value.` };
      values.set(name, value);
    } else return { problem: `Unknown option "--${name}".` };
  }
  return { values, flags };
}
