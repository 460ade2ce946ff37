/**
 * What the `oauth-anywhere` command and the VS Code window that opened its terminal say to each
 * other over the window's terminal endpoint: the command sends one JSON line (an envelope carrying
 * the window's secret and one request), the window answers with JSON lines: zero or more notices,
 * then exactly one outcome. Empty lines may come in between (the window checking that someone
 * still reads after the command ended its input); readers skip them. Shared by the command's own small bundle (dist/cli.js) and the endpoint,
 * so it imports nothing.
 */

/** Where the window's endpoint is: a Unix socket path, or a named pipe on Windows. */
export const endpointVariable = 'OAUTH_ANYWHERE_TERMINAL_ENDPOINT';
/** The window's random secret; every request must carry it. */
export const secretVariable = 'OAUTH_ANYWHERE_TERMINAL_SECRET';
/** The Node that runs the extension host, which runs the command too (bin/oauth-anywhere). */
export const nodeVariable = 'OAUTH_ANYWHERE_NODE';

export const protocolVersion = 1;
/** A request is small; anything longer is not one. */
export const maxRequestBytes = 64 * 1024;

/** What consent is asked and remembered for: one kind per verb that hands out a token. */
export type ToolKind = 'token' | 'git' | 'kubectl';

/** What git asks a credential helper about (its `protocol` and `host`, with the port when not the default). */
export interface GitTarget {
  protocol: string;
  host: string;
}

export type TerminalRequest =
  | { verb: 'token'; provider?: string; scopes?: string[]; signIn: boolean }
  /** `cluster`: the API server, when kubectl passes the cluster's info (consent then holds per cluster). */
  | { verb: 'kubectl'; provider?: string; scopes?: string[]; signIn: boolean; cluster?: string }
  | { verb: 'git-get'; target: GitTarget; signIn: boolean }
  /** git got 401 with this token: the identity provider decides what happens to the session. */
  | { verb: 'git-erase'; target: GitTarget; token: string }
  | { verb: 'status' };

export interface RequestEnvelope {
  version: typeof protocolVersion;
  secret: string;
  /** The command's process id, from which the window describes who is asking (where it can). */
  pid: number;
  request: TerminalRequest;
}

export interface Credential {
  accessToken: string;
  /** Epoch ms; absent when the identity provider gave no lifetime. */
  expiresAt?: number;
  scopes: string[];
  account: string;
  provider: { id: string; label: string };
  /** For git: the user name this provider's forge expects next to the token. */
  username?: string;
}

export interface ProviderStatus {
  id: string;
  label: string;
  /** Why it cannot hand out tokens, when it cannot (settings missing or wrong). */
  problem?: string;
  gitHosts: string[];
  sessions: Array<{ account: string; scopes: string[]; expiresAt?: number }>;
  /** The tools the user always allowed for this provider, e.g. `git`, `kubectl for https://k8s.example:6443`. */
  alwaysAllowed: string[];
}

export type ErrorCode = 'usage' | 'not-signed-in' | 'refused' | 'failed';

export type Reply =
  | { kind: 'notice'; message: string }
  | { kind: 'credential'; credential: Credential }
  /** git asked about a host no provider claims: the helper answers nothing and git asks the next one. */
  | { kind: 'nothing' }
  | { kind: 'done' }
  | { kind: 'status'; providers: ProviderStatus[] }
  | { kind: 'error'; code: ErrorCode; message: string };

/** The command's exit codes, documented in `oauth-anywhere --help` and the README. */
export const exitCodes = {
  ok: 0,
  failed: 1,
  usage: 2,
  notSignedIn: 3,
  refused: 4,
  noWindow: 5,
  cancelled: 130,
} as const;

export const exitCodeOf: Record<ErrorCode, number> = {
  usage: exitCodes.usage,
  'not-signed-in': exitCodes.notSignedIn,
  refused: exitCodes.refused,
  failed: exitCodes.failed,
};
