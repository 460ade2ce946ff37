// The two ledgers of the secret-leak scan (test/security/secretLeak.test.ts).
//
//  - OAUTH_ANYWHERE_SECRET_LEDGER: every secret the test IdP issued or received, one JSON object a
//    line ({"kind":…,"value":…}), appended by test/support/idp.ts in whatever process runs an IdP.
//  - OAUTH_ANYWHERE_LOG_LEDGER: everything the extension said: every log line (test/support/logs.ts
//    captureLogger appends there) and the error messages and pages tests saw (recordOutput below).
//
// With the variables unset, recording is a no-op, so ordinary test runs leave no files behind. The
// scan runs after the whole suite and looks for every secret of the first ledger in the second.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export const secretLedgerVariable = 'OAUTH_ANYWHERE_SECRET_LEDGER';
export const logLedgerVariable = 'OAUTH_ANYWHERE_LOG_LEDGER';

export type SecretKind = 'access_token' | 'refresh_token' | 'id_token' | 'code' | 'code_verifier' | 'device_code';
export const secretKinds: readonly SecretKind[] = ['access_token', 'refresh_token', 'id_token', 'code', 'code_verifier', 'device_code'];

export interface LedgerSecret {
  kind: SecretKind;
  value: string;
}

/** Appends one secret to the secret ledger, if one is set. */
export function recordSecret(kind: SecretKind, value: string): void {
  const ledger = process.env[secretLedgerVariable];
  if (!ledger || !value) return;
  appendFileSync(ledger, `${JSON.stringify({ kind, value })}\n`);
}

/**
 * Appends something the extension showed or returned (an error message, a callback page, a report) to
 * the log ledger, so the scan covers it like a log line.
 */
export function recordOutput(source: string, text: string): void {
  const ledger = process.env[logLedgerVariable];
  if (!ledger) return;
  appendFileSync(ledger, `output ${source}: ${text}\n`);
}

export function readSecretLedger(path: string): LedgerSecret[] {
  if (!existsSync(path)) return [];
  const secrets: LedgerSecret[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const parsed = JSON.parse(line) as Partial<LedgerSecret>;
    if (typeof parsed.value === 'string' && secretKinds.includes(parsed.kind as SecretKind)) secrets.push(parsed as LedgerSecret);
  }
  return secrets;
}

/**
 * What must not appear anywhere: the whole value, and for a JWT also its signature on its own (the
 * part that makes it a credential; the header is the same for every token and not secret).
 */
export function needlesOf(secret: LedgerSecret): string[] {
  const needles = [secret.value];
  const parts = secret.value.split('.');
  if (parts.length === 3 && parts[2]!.length >= 16) needles.push(parts[2]!);
  return needles;
}

export interface Leak {
  kind: SecretKind;
  /** A few characters of the secret, enough to find it in the ledger, not enough to use it. */
  prefix: string;
  /** The text around the hit, with the secret itself cut out. */
  context: string;
}

/** Every secret found in `text`; one entry per secret, however often it occurs. */
export function findLeaks(text: string, secrets: readonly LedgerSecret[]): Leak[] {
  const leaks: Leak[] = [];
  const seen = new Set<string>();
  for (const secret of secrets) {
    if (seen.has(secret.value)) continue;
    seen.add(secret.value);
    for (const needle of needlesOf(secret)) {
      const at = text.indexOf(needle);
      if (at < 0) continue;
      const context = `${text.slice(Math.max(0, at - 80), at)}<${secret.kind}>${text.slice(at + needle.length, at + needle.length + 80)}`;
      leaks.push({ kind: secret.kind, prefix: secret.value.slice(0, 6), context: context.replace(/\s+/g, ' ') });
      break;
    }
  }
  return leaks;
}
