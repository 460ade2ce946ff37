// The README, for tests that hold its claims to what the code and the tools really do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The text of the README's `## <title>` section, up to the next `## ` heading. */
export function readmeSection(title: string): string {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`The README has no "## ${title}" section.`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}
