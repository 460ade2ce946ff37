import { createServer } from 'node:net';
import type { SecretStoragePort } from '../auth/sessionStore.js';
import type { SettingsResult } from '../config.js';
import { chooseFlow, type Environment } from '../oauth/chooseFlow.js';
import { OAuthClient } from '../oauth/client.js';
import { openableUrl } from '../oauth/endpointUrls.js';
import { listedStrings } from '../oauth/metadataLists.js';
import { redactSecretShapes } from '../oauth/redact.js';
import { realClock } from '../oauth/clock.js';
import type { Clock } from '../oauth/types.js';
import { inlineCode, inlineCodeList } from './reportText.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info';

export interface Check {
  title: string;
  status: CheckStatus;
  lines: string[];
}

export interface TroubleshootInputs {
  environment: Environment;
  settings: SettingsResult;
  secrets: SecretStoragePort;
  /** The last sign-in errors, newest last (messages only: they never hold secrets). */
  recentErrors: readonly string[];
  /** How this window coordinates refreshes with the other windows of its machine. */
  windows?: { directory: string; ready: boolean; otherWindows: number };
  clock?: Clock;
  /** Per-request limit, so a dead IdP cannot hold the report up. */
  timeoutMs?: number;
}

/**
 * Everything a person (or a help desk) needs to see why signing in does not work, as plain checks.
 * It asks the IdP only for public metadata and never reads or prints a token.
 */
export async function troubleshoot(inputs: TroubleshootInputs): Promise<Check[]> {
  const clock = inputs.clock ?? realClock;
  const checks: Check[] = [environmentCheck(inputs.environment), settingsCheck(inputs.settings)];
  if (inputs.settings.ok) {
    const { provider, flow, loopbackPort } = inputs.settings.settings;
    const client = new OAuthClient(provider, { clock, limits: { timeoutMs: inputs.timeoutMs ?? 10_000, maxBodyBytes: 1024 * 1024 } });
    checks.push(...(await identityProviderChecks(client, inputs.environment, flow, clock)));
    checks.push(await clockSkewCheck(client.issuer, clock, inputs.timeoutMs ?? 10_000));
    checks.push(await loopbackBindCheck(loopbackPort));
  }
  checks.push(await secretStorageCheck(inputs.secrets));
  if (inputs.windows) checks.push(windowsCheck(inputs.windows));
  checks.push({
    title: 'Recent sign-in errors',
    status: inputs.recentErrors.length ? 'warn' : 'ok',
    lines: inputs.recentErrors.length ? inputs.recentErrors.map((message) => `- ${inlineCode(message, 600)}`) : ['none since VS Code started'],
  });
  return checks;
}

function windowsCheck(windows: NonNullable<TroubleshootInputs['windows']>): Check {
  return windows.ready
    ? { title: 'Other VS Code windows on this machine', status: 'ok', lines: [`Refreshes are coordinated through ${inlineCode(windows.directory)}; ${windows.otherWindows} other window(s) there.`] }
    : {
        title: 'Other VS Code windows on this machine',
        status: 'warn',
        lines: [`${inlineCode(windows.directory)} cannot be used (see the log), so windows coordinate through SecretStorage alone and may refresh a session twice. Set OAUTH_ANYWHERE_RUNTIME_DIR to a folder only you can write.`],
      };
}

/**
 * A report to read and to paste into a ticket: Markdown, with anything token-shaped removed. Each
 * check's lines quote outside text only as inline code (`inlineCode`); a line break in a line would
 * still start a section or a list of its own, so every title and line is made one line here.
 */
export function renderReport(checks: readonly Check[], generatedAt: Date): string {
  const mark: Record<CheckStatus, string> = { ok: '✅', warn: '⚠️', fail: '❌', info: 'ℹ️' };
  const oneLine = (text: string) => text.replace(/[\r\n\u2028\u2029]+/g, ' ');
  const body = checks.map((check) => `## ${mark[check.status]} ${oneLine(check.title)}\n${check.lines.map(oneLine).join('\n')}`).join('\n\n');
  return redactSecretShapes(`# OAuth Anywhere: sign-in troubleshooting report\nGenerated ${generatedAt.toISOString()}. It holds no tokens, codes or secrets.\n\n${body}\n`);
}

function environmentCheck(environment: Environment): Check {
  return {
    title: 'Where the extension runs',
    status: 'info',
    lines: [
      `- remote: ${environment.remoteName === undefined ? 'none (local window)' : inlineCode(environment.remoteName)}`,
      `- UI: ${environment.uiKind}`,
      `- extension host side: ${environment.extensionKind}`,
    ],
  };
}

function settingsCheck(settings: SettingsResult): Check {
  if (!settings.ok) return { title: 'Settings', status: 'fail', lines: settings.problems.map((problem) => `- ${problem.setting}: ${inlineCode(problem.message, 600)}`) };
  const { provider, flow, loopbackPort, preset } = settings.settings;
  const portFixedBy = preset?.loopbackPort === loopbackPort ? ` (the ${preset.label} preset's: 0 means this port with it; register http://127.0.0.1:${loopbackPort}/callback)` : '';
  const endpoints = Object.entries(provider.endpoints ?? {}).filter(([, value]) => value);
  return {
    title: 'Settings',
    status: 'ok',
    lines: [
      `- issuer: ${inlineCode(provider.issuer)}`,
      `- client id: ${inlineCode(provider.clientId)}`,
      `- scopes: ${inlineCode(provider.scopes.join(' '))}`,
      `- flow: ${flow}`,
      `- loopback port: ${loopbackPort === 0 ? 'any free port' : `${loopbackPort}${portFixedBy}`}`,
      `- explicit endpoints: ${endpoints.length ? endpoints.map(([name]) => name).join(', ') : 'none'}`,
    ],
  };
}

async function identityProviderChecks(client: OAuthClient, environment: Environment, flowSetting: 'auto' | 'loopback' | 'device', clock: Clock): Promise<Check[]> {
  const started = clock.now();
  let metadata;
  try {
    metadata = await client.metadata();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [{ title: 'Discovery', status: 'fail', lines: [`- ${inlineCode(client.issuer.href)}: ${inlineCode(message, 600)}`, `- TLS: ${tlsVerdict(client.issuer, error)}`] }];
  }
  const elapsed = clock.now() - started;
  const capabilities = await client.capabilities();
  const choice = chooseFlow(environment, capabilities, flowSetting);
  const pkce = listedStrings(metadata.code_challenge_methods_supported);
  const grants = listedStrings(metadata.grant_types_supported);
  const offered = (name: string, value: unknown) => `- ${name}: ${offeredUrl(client.issuer, name, value)}`;
  const missing = [
    !capabilities.deviceGrant && 'no device authorization endpoint: signing in with a code (remote, browser UI) is not possible',
    pkce && !pkce.includes('S256') && 'PKCE S256 not listed in the metadata',
    grants && !grants.includes('refresh_token') && 'no refresh_token grant: you will sign in again when a token expires',
  ].filter((item): item is string => !!item);
  return [
    {
      title: 'Discovery',
      status: 'ok',
      lines: [`- issuer: ${inlineCode(metadata.issuer)} (matches the setting)`, `- answered in ${elapsed} ms`, `- TLS: ${tlsVerdict(client.issuer)}`],
    },
    {
      title: 'What the identity provider offers',
      status: missing.length ? 'warn' : 'ok',
      lines: [
        offered('authorization endpoint', metadata.authorization_endpoint),
        offered('token endpoint', metadata.token_endpoint),
        offered('device authorization endpoint', metadata.device_authorization_endpoint),
        offered('revocation endpoint', metadata.revocation_endpoint),
        offered('userinfo endpoint', metadata.userinfo_endpoint),
        offered('end session endpoint', metadata.end_session_endpoint),
        `- grant types: ${inlineCodeList(metadata.grant_types_supported)}`,
        `- PKCE methods: ${inlineCodeList(metadata.code_challenge_methods_supported)}`,
        ...missing.map((item) => `- ⚠️ ${item}`),
      ],
    },
    {
      title: 'Flow',
      status: choice.flows.length ? 'ok' : 'fail',
      lines: [`- would use: ${choice.flows.join(', then ') || 'nothing'}${choice.forwardLoopback ? ' (loopback through port forwarding)' : ''}`, `- why: ${inlineCode(choice.reason, 600)}`],
    },
  ];
}

/** An endpoint the metadata names: as inline code, or "refused" with the reason when this extension would not use it. */
function offeredUrl(issuer: URL, name: string, value: unknown): string {
  if (typeof value !== 'string') return 'not offered';
  try {
    return inlineCode(openableUrl(value, name.replace(/ /g, '_'), issuer).href);
  } catch (error) {
    return `refused (${inlineCode(error instanceof Error ? error.message : String(error))})`;
  }
}

function tlsVerdict(issuer: URL, error?: unknown): string {
  if (issuer.protocol === 'http:') return 'plain http (allowed only because the issuer is a loopback address)';
  const code = String((error as { details?: { cause?: { cause?: { code?: string } } } } | undefined)?.details?.cause?.cause?.code ?? '');
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code)) return `certificate not accepted (${code}): a proxy or private CA? Node's CA store is used`;
  return error ? 'not established (see the error above)' : 'certificate verified';
}

/** Token expiry is counted from our clock, but a skewed clock still breaks ID token checks (iat, exp). */
async function clockSkewCheck(issuer: URL, clock: Clock, timeoutMs: number): Promise<Check> {
  const title = 'Clock';
  try {
    const before = clock.now();
    const response = await fetch(new URL('.well-known/openid-configuration', issuer.href.endsWith('/') ? issuer : new URL(`${issuer.href}/`)), { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
    const after = clock.now();
    const date = Date.parse(response.headers.get('date') ?? '');
    if (Number.isNaN(date)) return { title, status: 'info', lines: ['- the identity provider sends no Date header; skew unknown'] };
    const skewSeconds = Math.round((date - (before + after) / 2) / 1000);
    const status = Math.abs(skewSeconds) > 120 ? 'warn' : 'ok';
    return { title, status, lines: [`- identity provider's clock minus this machine's: ${skewSeconds} s (±1 s)`, ...(status === 'warn' ? ['- ⚠️ more than 2 minutes: ID token validation may fail; sync this machine\'s clock'] : [])] };
  } catch (error) {
    return { title, status: 'info', lines: [`- could not compare clocks: ${inlineCode(error instanceof Error ? error.message : String(error))}`] };
  }
}

/**
 * Can the sign-in listen where its redirect URI points? A fixed port in use is most often held by a
 * sign-in in progress, which frees it when it ends; setting 0 would not help where a preset fixes the
 * port, since 0 then means that same port.
 */
async function loopbackBindCheck(port: number): Promise<Check> {
  const title = 'Loopback callback server';
  const otherPort = 'set oauthAnywhere.loopbackPort to a free port and register http://127.0.0.1:PORT/callback with the identity provider';
  return new Promise<Check>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const line =
        port && error.code === 'EADDRINUSE'
          ? `- 127.0.0.1:${port} is in use (EADDRINUSE): by a sign-in in progress (in this or another VS Code window), which frees it when it ends, or by another program; if it stays in use, ${otherPort}`
          : `- cannot listen on 127.0.0.1:${port} (${error.code ?? error.message}); ${otherPort}`;
      resolve({ title, status: 'fail', lines: [line] });
    });
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve({ title, status: 'ok', lines: [`- listening on 127.0.0.1:${bound} works${port === 0 ? ' (a free port is picked each time)' : ''}`] }));
    });
  });
}

async function secretStorageCheck(secrets: SecretStoragePort): Promise<Check> {
  const title = 'Secret storage';
  const key = 'oauth-anywhere.troubleshoot-probe';
  const value = `probe-${Date.now()}`;
  try {
    await secrets.store(key, value);
    const read = await secrets.get(key);
    await secrets.delete(key);
    const gone = (await secrets.get(key)) === undefined;
    if (read !== value || !gone) return { title, status: 'fail', lines: [`- write/read/delete round trip failed (read back ${read === value ? 'the value' : 'something else'}, deleted: ${gone})`] };
    return { title, status: 'ok', lines: ['- write, read and delete round trip works', '- note: on Linux without a keyring VS Code may keep secrets in memory only, and sessions vanish on restart'] };
  } catch (error) {
    return { title, status: 'fail', lines: [`- ${inlineCode(error instanceof Error ? error.message : String(error))}`] };
  }
}
