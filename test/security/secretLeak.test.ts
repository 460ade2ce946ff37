// The secret-leak scan: nothing the identity provider issued or received (access, refresh and ID
// tokens, authorization codes, code verifiers, device codes) may appear in anything the extension
// said during the whole test suite: every log line at every level (captureLogger records them all),
// and the error messages and browser pages the tests collected (recordOutput).
//
// It reads the two ledgers the rest of the suite wrote (see test/support/secretLedger.ts), so it must
// run AFTER all other test files, in its own invocation, with the same ledger variables; scripts/test.mjs
// does exactly that (its last tier). Without the ledger variables it is skipped, so an ad-hoc run of
// test/security/*.test.ts does not fail on it. It fails when the secret ledger lacks any kind of
// secret the suite issues, so it cannot pass vacuously. By hand:
//
//   export OAUTH_ANYWHERE_SECRET_LEDGER=$PWD/.cache/leak/secrets.jsonl OAUTH_ANYWHERE_LOG_LEDGER=$PWD/.cache/leak/log.txt
//   rm -rf .cache/leak && mkdir -p .cache/leak
//   node --expose-gc --import tsx --test test/unit/*.test.ts test/integration/*.test.ts \
//     $(ls test/security/*.test.ts | grep -v secretLeak)
//   node --import tsx --test test/security/secretLeak.test.ts
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findLeaks, logLedgerVariable, readSecretLedger, secretKinds, secretLedgerVariable, type LedgerSecret } from '../support/secretLedger.js';

const scanning = !!(process.env[secretLedgerVariable] && process.env[logLedgerVariable]);

/** Characters every token, code and verifier is made of (base64url, plus the dots of a JWT). */
const secretAlphabet = /^[A-Za-z0-9_.~-]+$/;

/**
 * The text cut down to its runs of secret characters of at least `minimum` length, once each: any
 * occurrence of a secret lies inside one such run, so searching these finds exactly what searching
 * the whole text would, over far fewer characters.
 */
function candidateRuns(text: string, minimum: number): string {
  const runs = new Set<string>();
  for (const match of text.matchAll(/[A-Za-z0-9_.~-]+/g)) if (match[0].length >= minimum) runs.add(match[0]);
  return [...runs].join('\n');
}

function scan(text: string, secrets: readonly LedgerSecret[]) {
  const compact = candidateRuns(text, 16);
  const plain = secrets.filter((secret) => secretAlphabet.test(secret.value));
  const odd = secrets.filter((secret) => !secretAlphabet.test(secret.value));
  const suspects = [...findLeaks(compact, plain), ...findLeaks(text, odd)];
  // Report each hit with its context from the full text (the secret itself is cut out).
  const byPrefix = new Set(suspects.map((leak) => leak.prefix));
  return findLeaks(text, secrets.filter((secret) => byPrefix.has(secret.value.slice(0, 6))));
}

/**
 * The log ledger, plus every other text file next to it (test reports, artifacts a runner keeps there),
 * except the secret ledger itself.
 */
function scannedFiles(logPath: string, secretPath: string): string[] {
  const folder = dirname(resolve(logPath));
  const others = readdirSync(folder)
    .map((name) => join(folder, name))
    .filter((path) => path !== resolve(logPath) && path !== resolve(secretPath) && statSync(path).isFile() && statSync(path).size < 64 * 1024 * 1024)
    .filter((path) => !readFileSync(path).subarray(0, 8192).includes(0));
  return [resolve(logPath), ...others];
}

describe('secret-leak scan over the whole suite', { skip: scanning ? false : `runs after the suite, with ${secretLedgerVariable} and ${logLedgerVariable} set (see the header)` }, () => {
  const secretPath = process.env[secretLedgerVariable];
  const logPath = process.env[logLedgerVariable];

  it('has both ledgers', () => {
    assert.ok(secretPath, `${secretLedgerVariable} names the secret ledger`);
    assert.ok(logPath, `${logLedgerVariable} names the log ledger`);
    assert.ok(existsSync(secretPath), `${secretPath} exists: the suite ran with the variable set`);
    assert.ok(existsSync(logPath), `${logPath} exists: the suite ran with the variable set`);
  });

  it('the secret ledger holds secrets of every kind, so the scan cannot pass vacuously', () => {
    const secrets = readSecretLedger(secretPath!);
    const counts = Object.fromEntries(secretKinds.map((kind) => [kind, secrets.filter((secret) => secret.kind === kind).length]));
    console.log(`secret ledger: ${secrets.length} secrets ${JSON.stringify(counts)}`);
    for (const kind of secretKinds) assert.ok(counts[kind]! > 0, `the suite issued at least one ${kind}: ${JSON.stringify(counts)}`);
  });

  it('the log ledger holds log lines and collected messages', () => {
    const lines = readFileSync(logPath!, 'utf8').split('\n').filter(Boolean);
    const levels = Object.fromEntries(['trace', 'debug', 'info', 'warn', 'error', 'output'].map((level) => [level, lines.filter((line) => line.startsWith(`${level} `)).length]));
    console.log(`log ledger: ${lines.length} lines ${JSON.stringify(levels)}`);
    assert.ok(levels.info! > 0 && levels.warn! > 0, 'log lines of several levels were recorded');
    assert.ok(levels.output! > 0, 'error messages and pages were recorded');
  });

  it('the scanner finds a secret planted in text (it is not blind)', () => {
    const secrets = readSecretLedger(secretPath!);
    for (const kind of secretKinds) {
      const sample = secrets.find((secret) => secret.kind === kind)!;
      const planted = `info Refreshed with ${sample.value}, then more text`;
      assert.equal(scan(planted, secrets).length, 1, `a planted ${kind} is found`);
      if (kind === 'id_token') {
        const signature = sample.value.split('.')[2]!;
        assert.equal(scan(`warn signature=${signature}`, secrets).length, 1, 'a JWT signature alone is found');
      }
    }
  });

  it('no secret appears in any log line, error message, page or report of the suite', () => {
    const secrets = readSecretLedger(secretPath!);
    const files = scannedFiles(logPath!, secretPath!);
    console.log(`scanned: ${files.map((file) => `${file} (${statSync(file).size} bytes)`).join(', ')}`);
    const leaks = files.flatMap((file) => scan(readFileSync(file, 'utf8'), secrets).map((leak) => ({ file, ...leak })));
    assert.deepEqual(leaks, [], `${leaks.length} secret(s) found`);
  });
});
