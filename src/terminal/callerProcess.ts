import { readFile } from 'node:fs/promises';
import { redactSecretShapes } from '../oauth/redact.js';

/** Shells that only pass a command on (`sh -c`, a subshell) say nothing about who asked. */
const shells = new Set(['sh', 'bash', 'dash', 'zsh', 'fish', 'ksh', 'mksh', 'ash', 'busybox', 'pwsh', 'powershell', 'cmd.exe']);
const maxDepth = 8;
const maxLength = 160;

interface ProcessInfo {
  parent: number;
  argv: string[];
}

export type ProcessReader = (pid: number) => Promise<ProcessInfo | undefined>;

/**
 * Who ran the `oauth-anywhere` command with this process id, for the consent modal: the command line
 * the person typed (`git clone https://...`), and the program that called the command when that is
 * another one (`git-remote-https`). Read from /proc, so only on Linux; elsewhere undefined. The pid
 * is what the command says of itself: this names the caller to the person, it proves nothing (the
 * secret and the consent do the guarding). Text that looks like a secret is cut out.
 */
export async function describeCaller(pid: number, read: ProcessReader = readLinuxProcess): Promise<string | undefined> {
  const self = await read(pid);
  if (!self) return undefined;
  const chain: string[][] = [];
  let current = self.parent;
  for (let depth = 0; depth < maxDepth && current > 1; depth++) {
    const info = await read(current);
    if (!info || !info.argv.length) break;
    const program = programName(info.argv[0]!);
    if (shells.has(program)) {
      // An interactive shell is the terminal itself: the search ends there.
      if (!info.argv.includes('-c')) break;
    } else chain.push(info.argv);
    current = info.parent;
  }
  const outermost = chain.at(-1);
  const nearest = chain[0];
  if (!outermost || !nearest) return 'typed in the terminal';
  const typed = shorten(outermost.join(' '));
  return nearest === outermost ? typed : `${typed} (via ${programName(nearest[0]!)})`;
}

function programName(argv0: string): string {
  return argv0.replace(/^-/, '').split(/[\\/]/).pop()!.toLowerCase();
}

function shorten(text: string): string {
  // A URL's user:password part is cut out as well as anything shaped like a token; control
  // characters become spaces, so a command line cannot redraw the consent dialog's text.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const clean = redactSecretShapes(text).replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1…@').replace(/[\u0000-\u001f\u007f]/g, ' ');
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
