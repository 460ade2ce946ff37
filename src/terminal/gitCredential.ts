import type { GitTarget } from './protocol.js';

/**
 * git's credential-helper protocol (gitcredentials(7), git-credential(1)): git writes `key=value`
 * lines ended by a blank line or the end of input; a helper's `get` answers with lines of the same
 * shape. Part of the command's bundle, so it imports nothing at run time.
 */
export type CredentialFields = Map<string, string>;

/** The attributes git sent; a repeated key keeps its last value; `key[]` list entries are skipped. */
export function parseCredentialInput(text: string): CredentialFields {
  const fields: CredentialFields = new Map();
  for (const line of text.split('\n')) {
    const trimmed = line.replace(/\r$/, '');
    if (trimmed === '') break;
    const equals = trimmed.indexOf('=');
    if (equals <= 0) continue;
    const key = trimmed.slice(0, equals);
    if (key.endsWith('[]')) continue;
    fields.set(key, trimmed.slice(equals + 1));
  }
  return fields;
}

/** Which server git is talking to: `protocol` + `host`, or the same parts of a `url` attribute. */
export function gitTargetOf(fields: CredentialFields): GitTarget | undefined {
  const protocol = fields.get('protocol');
  const host = fields.get('host');
  if (protocol && host) return { protocol: protocol.toLowerCase(), host: host.toLowerCase() };
  const url = fields.get('url');
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return { protocol: parsed.protocol.replace(/:$/, ''), host: parsed.host.toLowerCase() };
  } catch {
    return undefined;
  }
}

/**
 * A helper's answer. git rejects a value with a newline or NUL in it; such a value cannot come from
 * a real token or user name, so it is refused here rather than sent half-written.
 */
export function formatCredentialAnswer(fields: ReadonlyArray<readonly [string, string]>): string {
  for (const [key, value] of fields) {
    if (/[\n\0]/.test(value)) throw new Error(`The ${key} for git contains a line break; git cannot take it.`);
  }
  return fields.map(([key, value]) => `${key}=${value}\n`).join('');
}

/** `get`'s answer: user name, the access token as password, and when git should stop using it (git 2.41+). */
export function credentialAnswer(username: string, token: string, expiresAt: number | undefined): string {
  const fields: Array<[string, string]> = [
    ['username', username],
    ['password', token],
  ];
  if (expiresAt !== undefined) fields.push(['password_expiry_utc', String(Math.floor(expiresAt / 1000))]);
  return formatCredentialAnswer(fields);
}
