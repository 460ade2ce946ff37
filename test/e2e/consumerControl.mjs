// The test side of the consumer's follow mode (consumer/follow.js): one control folder shared by any
// number of tabs of one code-server (each a window with its own extension host), requests that every
// tab runs at the same moment, and what each tab saw.
//
//   const control = consumerControl(dir);              // also the setting oauthAnywhereConsumer.controlDir
//   const pid = await control.follow(page);            // this tab's extension host follows the folder
//   const [result] = await control.ask([pid], 'oauthAnywhereConsumer.readProbe', [{ key }]);
//   control.events(pid);                               // its session and secret change events

import fs from 'node:fs';
import path from 'node:path';

import { runCommand } from './browser.mjs';

export const FOLLOW_COMMAND = 'OAuth Anywhere Consumer: Follow Test Requests';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * @param {string} dir  the control folder (created here)
 */
export function consumerControl(dir) {
  for (const sub of ['hosts', 'requests', 'results', 'events']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  let counter = 0;

  const hostPids = () => fs.readdirSync(path.join(dir, 'hosts')).map((name) => Number(name.replace(/\.json$/, '')));

  return {
    dir,

    /**
     * Runs "Follow Test Requests" in this tab and resolves with the pid of its extension host, once
     * that host announced itself. The command palette lists the consumer's command only once the
     * tab's extension host is up; runCommand retries until it is.
     */
    async follow(page, { timeoutMs = 60_000 } = {}) {
      const before = new Set(hostPids());
      await page.bringToFront();
      await runCommand(page, FOLLOW_COMMAND, { timeoutMs });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const added = hostPids().filter((pid) => !before.has(pid));
        if (added.length === 1) return added[0];
        if (added.length > 1) throw new Error(`more than one extension host started following: ${added.join(', ')}`);
        if (Date.now() > deadline) throw new Error(`no extension host followed ${dir} within ${timeoutMs} ms`);
        await sleep(100);
      }
    },

    /**
     * Has every host in `pids` run `command(...args)`, all at the moment `at` (epoch ms; default
     * at once). `whileWaiting` runs between looks (to answer VS Code's prompts in the tabs).
     * Resolves with one result per pid, in the order of `pids`.
     */
    async ask(pids, command, args = [], { at, timeoutMs = 60_000, whileWaiting } = {}) {
      const id = `${Date.now()}-${++counter}`;
      const request = { id, to: pids, at, command, args };
      const file = path.join(dir, 'requests', `${id}.json`);
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(request));
      fs.renameSync(`${file}.tmp`, file);
      const deadline = Math.max(Date.now(), at ?? 0) + timeoutMs;
      for (;;) {
        const results = pids.map((pid) => readJson(path.join(dir, 'results', `${id}.${pid}.json`)));
        if (results.every(Boolean)) return results;
        if (Date.now() > deadline) {
          const missing = pids.filter((_, index) => !results[index]);
          throw new Error(`${command} did not finish within ${timeoutMs} ms in the extension host(s) ${missing.join(', ')}`);
        }
        await whileWaiting?.();
        await sleep(100);
      }
    },

    /** What the host wrote when it started following: {pid, startedAt, logDir}. */
    host(pid) {
      return readJson(path.join(dir, 'hosts', `${pid}.json`));
    },

    /** The change events this host logged: {kind: 'sessions', at, snapshots} and {kind: 'secrets', at, key}. */
    events(pid) {
      try {
        return fs
          .readFileSync(path.join(dir, 'events', `${pid}.jsonl`), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line));
      } catch {
        return [];
      }
    },
  };
}
