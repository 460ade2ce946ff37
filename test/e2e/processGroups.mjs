// One place that knows every process group the e2e tier and the sandbox started (code-server,
// the test IdP, npm builds), so that none outlives this process: they are killed when it exits
// (also after an uncaught error) and on SIGINT, SIGTERM and SIGHUP.
//
// On a signal the groups are killed and the process exits with 128 + the signal number, unless the
// program called handleSignalsItself(): then its own handler stops things (gracefully) and exits,
// and the exit handler still kills whatever is left.

const groups = new Set();
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
let installed = false;
let programHandlesSignals = false;

export function killGroup(pid, signal = 'SIGKILL') {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function killTrackedGroups() {
  for (const pid of groups) killGroup(pid, 'SIGKILL');
  groups.clear();
}

/** Remembers a child started with `detached: true` (its pid is its process group id). */
export function trackGroup(pid) {
  install();
  groups.add(pid);
}

export function untrackGroup(pid) {
  groups.delete(pid);
}

/** The program stops its children and exits on signals itself (the sandbox). */
export function handleSignalsItself() {
  install();
  programHandlesSignals = true;
}

function install() {
  if (installed) return;
  installed = true;
  process.on('exit', killTrackedGroups);
  for (const signal of Object.keys(SIGNAL_NUMBERS)) {
    process.on(signal, () => {
      if (programHandlesSignals) return;
      killTrackedGroups();
      process.exit(128 + SIGNAL_NUMBERS[signal]);
    });
  }
}
