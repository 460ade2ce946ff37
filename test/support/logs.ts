import { appendFileSync } from 'node:fs';
import type { Logger } from '../../src/oauth/types.js';

/**
 * A Logger that keeps lines for assertions and, when OAUTH_ANYWHERE_LOG_LEDGER names a file, appends
 * every line there too, so the secret-leak scan can read all log output of the whole suite.
 */
export function captureLogger(lines: string[] = []): Logger & { lines: string[] } {
  const ledger = process.env.OAUTH_ANYWHERE_LOG_LEDGER;
  const log = (level: string) => (message: string) => {
    const line = `${level} ${message}`;
    lines.push(line);
    if (ledger) appendFileSync(ledger, `${line}\n`);
  };
  return { lines, trace: log('trace'), debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
