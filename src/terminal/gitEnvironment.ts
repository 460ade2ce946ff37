/**
 * Git configuration for VS Code's terminals only, never the user's config files: git (2.31+) reads
 * GIT_CONFIG_COUNT and GIT_CONFIG_KEY_<n> / GIT_CONFIG_VALUE_<n> from the environment. Entries that
 * are already there (set by the user or another tool) keep their numbers and ours follow them.
 */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * git's credential helper syntax: `!` runs a shell command, to which git appends get/store/erase.
 * It runs the command's bundle with the extension host's Node directly, as bin/oauth-anywhere
 * would, without that script's own shell: git already starts one, and each costs start-up time.
 */
export function credentialHelperCommand(node: string, commandBundle: string): string {
  return `!ELECTRON_RUN_AS_NODE=1 ${shellQuote(node)} ${shellQuote(commandBundle)} git-credential`;
}

/** credentialHelperCommand()'s shape, whichever Node and installation: how our own entries are recognised. */
const ourHelper = /^!ELECTRON_RUN_AS_NODE=1 '.*' '.*[\\/]dist[\\/]cli\.js' git-credential$/s;

/**
 * The config entries for these git hosts (origins like `https://git.example.com`). Each host first
 * gets an empty helper, which clears the helpers configured before it for that host (a `store`
 * helper would otherwise write the token to disk, a global helper would answer first with a stale
 * password), then ours. Other hosts keep the user's helpers and VS Code's own askpass untouched.
 */
export function credentialHelperEntries(origins: readonly string[], helper: string): Array<[key: string, value: string]> {
  return origins.flatMap((origin): Array<[string, string]> => [
    [`credential.${origin}.helper`, ''],
    [`credential.${origin}.helper`, helper],
  ]);
}

export interface GitConfigVariables {
  /** The variables to set in the terminal environment (none when there is nothing to add). */
  variables: Record<string, string>;
  /** Why nothing could be added although entries were asked for. */
  problem?: string;
}

/**
 * GIT_CONFIG_COUNT and the numbered keys and values for `entries`, after those already in
 * `existing`. Entries of ours already there were inherited from another VS Code window (a `code .`
 * typed in one of its terminals): they are dropped and the ones after them renumbered, or every
 * such window would add another copy, and one that serves no terminal tools would keep handing git
 * to the other window's helper.
 */
export function gitConfigVariables(existing: Environment, entries: ReadonlyArray<readonly [string, string]>): GitConfigVariables {
  const countText = existing.GIT_CONFIG_COUNT;
  let count = 0;
  if (countText !== undefined && countText !== '') {
    if (!/^\d+$/.test(countText)) {
      // git itself refuses to run with a bogus count; adding to it would hide the user's real problem.
      if (!entries.length) return { variables: {} };
      return { variables: {}, problem: `GIT_CONFIG_COUNT is "${countText.slice(0, 20)}" in this environment, which git rejects; no git hosts were configured for VS Code's terminals. Fix or unset it.` };
    }
    count = Number(countText);
  }
  const present = numberedEntries(existing, count);
  const ours = present.map((_, index) => isOurEntry(present, index));
  const firstOurs = ours.indexOf(true);
  if (firstOurs < 0) return entries.length ? { variables: { GIT_CONFIG_COUNT: String(count + entries.length), ...numbered(count, entries) } } : { variables: {} };
  const kept = present.filter((_, index) => !ours[index]);
  return { variables: { GIT_CONFIG_COUNT: String(kept.length + entries.length), ...numbered(firstOurs, [...kept.slice(firstOurs), ...entries]) } };
}

/** GIT_CONFIG_KEY_<n> / GIT_CONFIG_VALUE_<n> for n below count (git refuses to run when a key is missing: that stays the user's to see). */
function numberedEntries(existing: Environment, count: number): Array<readonly [string, string]> {
  return Array.from({ length: count }, (_, index) => [existing[`GIT_CONFIG_KEY_${index}`] ?? '', existing[`GIT_CONFIG_VALUE_${index}`] ?? ''] as const);
}

/** Our helper, or the empty helper just before it for the same key (see credentialHelperEntries). */
function isOurEntry(entries: ReadonlyArray<readonly [string, string]>, index: number): boolean {
  const [key, value] = entries[index]!;
  if (ourHelper.test(value)) return true;
  const next = entries[index + 1];
  return value === '' && next !== undefined && next[0] === key && ourHelper.test(next[1]);
}

function numbered(first: number, entries: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const variables: Record<string, string> = {};
  entries.forEach(([key, value], index) => {
    variables[`GIT_CONFIG_KEY_${first + index}`] = key;
    variables[`GIT_CONFIG_VALUE_${first + index}`] = value;
  });
  return variables;
}

/** Single-quoted for a POSIX shell (git runs `!` helpers with sh, Git for Windows' too). */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
