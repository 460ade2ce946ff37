import { readFile } from 'node:fs/promises';
import { redactSecretShapes } from '../oauth/redact.js';
import { stripInvisible } from '../oauth/untrustedText.js';

const shells = new Set(['sh', 'bash', 'dash', 'zsh', 'fish', 'ksh', 'mksh', 'ash', 'pwsh', 'powershell']);
/** Shell options that take the next argument as their value, so that it is not read as a script. */
const optionsWithValue = new Set(['--init-file', '--rcfile', '-o', '+o', '-O', '+O', '-C', '--init-command']);
const maxProcesses = 6;
const maxLength = 160;

interface ProcessInfo {
  parent: number;
  argv: string[];
}

export type ProcessReader = (pid: number) => Promise<ProcessInfo | undefined>;

/**
 * Who ran the `oauth-anywhere` command with this process id, for the consent modal: the command
 * lines of its parent processes, outermost first, up to the shell at whose prompt the chain started
 * (a shell with neither a script nor a command to run), e.g. `bash (its prompt)`, `git clone
 * https://…`, `git-remote-https origin https://…`. A script shows as the script (`bash ./deploy.sh`),
 * never as something typed. Read from /proc, so only on Linux; elsewhere undefined. It is what these
 * processes say of themselves: it names the caller to the person and proves nothing (a program can
 * choose its own arguments; the secret and the consent do the guarding). Text that looks like a
 * secret is cut out.
 */
export async function describeCaller(pid: number, read: ProcessReader = readLinuxProcess): Promise<string[] | undefined> {
  const self = await read(pid);
  if (!self) return undefined;
  const chain: string[] = [];
  let current = self.parent;
  while (chain.length < maxProcesses && current > 1) {
    const info = await read(current);
    if (!info?.argv.length) break;
    const shell = shellRole(info.argv);
    if (shell === 'prompt') {
      chain.push(`${programName(info.argv[0]!)} (its prompt)`);
      break;
    }
    // git runs a `!` credential helper as `sh -c '<helper> "$@"' <helper> get`: that shell, between
    // git and the command, repeats the command itself and is left out.
    const gitsHelperShell = shell === 'command' && current === self.parent && (await isGitsHelperShell(info, read));
    if (!gitsHelperShell) chain.push(shorten(info.argv.join(' ')));
    current = info.parent;
  }
  return chain.reverse();
}

/** A shell at its prompt (no script, no command), running a command string (-c), or running a script; undefined for other programs. */
function shellRole(argv: readonly string[]): 'prompt' | 'command' | 'script' | undefined {
  if (!shells.has(programName(argv[0]!))) return undefined;
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--') return index + 1 < argv.length ? 'script' : 'prompt';
    if (optionsWithValue.has(arg)) index++;
    // -c, -lc, -ec, pwsh's -Command / -c: a command string follows.
    else if (/^-[a-z]*c$/i.test(arg) || /^-command$/i.test(arg)) return 'command';
    else if (/^-noexit$/i.test(arg)) return 'prompt';
    else if (!/^[-+]/.test(arg)) return 'script';
  }
  return 'prompt';
}

async function isGitsHelperShell(shell: ProcessInfo, read: ProcessReader): Promise<boolean> {
  if (!shell.argv.some((arg) => /\bgit-credential (get|store|erase)\b/.test(arg)) || shell.parent <= 1) return false;
  const parent = await read(shell.parent);
  return !!parent?.argv.length && programName(parent.argv[0]!).startsWith('git');
}

function programName(argv0: string): string {
  return argv0.replace(/^-/, '').split(/[\\/]/).pop()!.toLowerCase();
}

function shorten(text: string): string {
  // A URL's user:password part is cut out as well as anything shaped like a token; control
  // characters become spaces and invisible ones (bidirectional overrides, zero-width) go, so a
  // command line cannot redraw or reorder the consent dialog's text.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const clean = stripInvisible(redactSecretShapes(text).replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1…@').replace(/[\u0000-\u001f\u007f-\u009f]/g, ' '));
  return clean.length > maxLength ? `${clean.slice(0, maxLength - 1)}…` : clean;
}

async function readLinuxProcess(pid: number): Promise<ProcessInfo | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    const [stat, cmdline] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/cmdline`, 'utf8')]);
    // The second field is the program name in parentheses and may contain spaces: the rest follows the last ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { parent: Number.isInteger(parent) ? parent : 0, argv: cmdline.split('\0').filter(Boolean) };
  } catch {
    return undefined;
  }
}
