import { startTestIdp, type TestIdp } from '../test/support/idp.js';
import { propagationSettings } from '../test/support/memorySecretStorage.js';
import { deadStoredRefreshTokens, jitter, openFleet, raceRound } from '../test/support/windowFleet.js';
import { median, percentile, type Figure } from './figures.js';

const rounds = Number(process.env.BENCH_WINDOW_ROUNDS ?? 100);
const hour = 3_600_000;
/** Two sessions of one account, as in the Accounts menu: one asked with `profile`, one with `email`. */
const scopeSets = [['profile'], ['email']];

/**
 * Windows of one machine racing to refresh two sessions whose access tokens expired, over the storage
 * model at every propagation setting (0, 120, 250, 500 ms, never). Per setting and window count:
 * refresh requests per session per expiry (goal exactly 1), stored refresh tokens the IdP no longer
 * accepts (goal 0), sessions lost (goal 0), and the time until every caller was served.
 */
export async function benchWindows(): Promise<Figure[]> {
  const idp = await startTestIdp({ deviceInterval: 0.02 });
  const figures: Figure[] = [];
  try {
    for (const windowCount of [2, 3]) {
      for (const { name, propagation } of propagationSettings) {
        process.stderr.write(`bench: windows: ${windowCount} windows, ${name}...\n`);
        figures.push(...(await race(idp, windowCount, name, propagation)));
      }
    }
  } finally {
    await idp.close();
  }
  return figures;
}

async function race(idp: TestIdp, windowCount: number, settingName: string, propagation: Parameters<typeof openFleet>[1]): Promise<Figure[]> {
  const fleet = openFleet(idp, propagation, { seed: 0xbe7c + windowCount });
  try {
    const first = fleet.open();
    for (const scopes of scopeSets) await first.manager.createSession(scopes);
    await fleet.shared.settled();
    while (fleet.windows.length < windowCount) fleet.open();
    const delay = jitter(0x5e55 + windowCount);
    const perSessionRefreshes: number[] = [];
    const elapsed: number[] = [];
    let deadStored = 0;
    let lost = 0;
    for (let round = 0; round < rounds; round++) {
      fleet.clock.advance(2 * hour);
      idp.resetCounters();
      const result = await raceRound(fleet, scopeSets, delay);
      elapsed.push(result.elapsedMs);
      perSessionRefreshes.push(idp.count('refresh') / scopeSets.length);
      // Rounds are an access token's lifetime apart in real use: storage has settled by the next one.
      await fleet.shared.settled();
      deadStored += await deadStoredRefreshTokens(idp, fleet.shared.backing.values());
      const missing = result.served.flat().filter((session) => !session).length;
      if (missing) {
        lost += missing;
        // Sign the lost sessions in again, so that later rounds measure the race, not the loss.
        for (const [index, scopes] of scopeSets.entries()) {
          if (result.served.some((window) => !window[index])) await fleet.windows[0]!.manager.createSession(scopes).catch(() => undefined);
        }
        await fleet.shared.settled();
      }
    }
    const label = `${windowCount} windows, 2 sessions, ${rounds} rounds, storage ${settingName}`;
    const maxRefreshes = Math.max(...perSessionRefreshes);
    const meanRefreshes = perSessionRefreshes.reduce((sum, value) => sum + value, 0) / perSessionRefreshes.length;
    return [
      { name: `${label}: refresh requests per session per expiry (mean)`, value: meanRefreshes, unit: 'requests', goal: '1', met: meanRefreshes === 1 && maxRefreshes === 1, note: `max ${maxRefreshes}` },
      { name: `${label}: stored refresh tokens the IdP no longer accepts`, value: deadStored, unit: 'tokens', goal: '0', met: deadStored === 0, note: 'summed over rounds, read after storage settled' },
      { name: `${label}: sessions lost (a caller served none)`, value: lost, unit: 'sessions', goal: '0', met: lost === 0 },
      { name: `${label}: time until all callers served after expiry (median)`, value: median(elapsed), unit: 'ms', note: `p95 ${percentile(elapsed, 95).toFixed(1)} ms` },
    ];
  } finally {
    fleet.dispose();
  }
}
