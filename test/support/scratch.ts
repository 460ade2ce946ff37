// Short-lived folders for a test (runtime directories for locks and window sockets), removed when
// the test process exits. Kept short: a Unix socket path may hold only about 104 bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.once('exit', () => {
  for (const directory of made) rmSync(directory, { recursive: true, force: true });
});

export function scratchDirectory(prefix = 'oa-'): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  made.push(directory);
  return directory;
}
