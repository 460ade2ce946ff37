// Several VS Code windows of one provider on one machine, each with its own SecretStorage view from
// the storage model (memorySecretStorage.ts) and its own provider logic, against the real test IdP.
// Shared by the multi-window suites and the benchmark, so both measure the same thing.
import type { AuthSession, AuthSessionChanges, SessionManager } from '../../src/auth/sessionManager.js';
import { deviceSessionManager } from './deviceSessionManager.js';
import type { TestIdp } from './idp.js';
import { captureLogger } from './logs.js';
import { createSharedSecrets, type MemorySecretStorage, type Propagation, type SharedSecrets } from './memorySecretStorage.js';
import { movableClock } from './clocks.js';

export interface FleetWindow {
  manager: SessionManager;
  secrets: MemorySecretStorage;
  logs: string[];
  events: AuthSessionChanges[];
}

export interface Fleet {
  readonly shared: SharedSecrets;
  readonly clock: ReturnType<typeof movableClock>;
  readonly windows: FleetWindow[];
  /** Opens one more window; its storage copy starts as what is stored now. */
  open(): FleetWindow;
  dispose(): void;
}

/** Configured scopes small enough that `profile` and `email` requests make two sessions of one account. */
export const fleetScopes = ['openid', 'offline_access'];

export function openFleet(idp: TestIdp, propagation: Propagation, seed = 1): Fleet {
  const shared = createSharedSecrets(undefined, propagation, seed);
  const clock = movableClock();
  const windows: FleetWindow[] = [];
  return {
    shared,
    clock,
    windows,
    open() {
      const logs: string[] = [];
      const secrets = shared.window();
      const { manager } = deviceSessionManager(idp, secrets, { logger: captureLogger(logs), clock, scopes: fleetScopes });
      manager.watch();
      const window: FleetWindow = { manager, secrets, logs, events: [] };
      manager.onDidChangeSessions((changes) => window.events.push(changes));
      windows.push(window);
      return window;
    },
    dispose() {
      for (const window of windows) window.manager.dispose();
      windows.length = 0;
    },
  };
}

/** Deterministic small delays (0-15 ms), so the windows' calls interleave differently each round. */
export function jitter(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state % 16;
  };
}

export interface RoundResult {
  /** Per window, per requested scope set: the session served (undefined: none). */
  served: Array<Array<AuthSession | undefined>>;
  /** From the first call until every caller was answered. */
  elapsedMs: number;
  failures: string[];
}

/** Every window asks for every scope set at about the same moment, as consumers do when a token expires. */
export async function raceRound(fleet: Fleet, scopeSets: readonly string[][], delay: () => number): Promise<RoundResult> {
  const started = performance.now();
  const failures: string[] = [];
  const served = await Promise.all(
    fleet.windows.map((window, windowIndex) =>
      Promise.all(
        scopeSets.map(async (scopes) => {
          await new Promise((resolve) => setTimeout(resolve, delay()));
          try {
            return (await window.manager.getSessions(scopes))[0];
          } catch (error) {
            failures.push(`window ${windowIndex + 1} [${scopes.join(' ')}]: ${error instanceof Error ? error.message : String(error)}`);
            return undefined;
          }
        }),
      ),
    ),
  );
  return { served, elapsedMs: performance.now() - started, failures };
}

/** Every refresh token stored anywhere in `values` (whatever the storage layout). */
export function storedRefreshTokens(values: Iterable<string>): string[] {
  const found: string[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [name, inner] of Object.entries(value)) {
        if (name === 'refreshToken' && typeof inner === 'string') found.push(inner);
        else walk(inner);
      }
    }
  };
  for (const raw of values) {
    try {
      walk(JSON.parse(raw));
    } catch {
      // Not JSON: holds no refresh token of ours.
    }
  }
  return found;
}

/** Stored refresh tokens that the IdP no longer accepts (introspection says inactive). */
export async function deadStoredRefreshTokens(idp: TestIdp, values: Iterable<string>): Promise<number> {
  let dead = 0;
  for (const token of storedRefreshTokens(values)) {
    if (!(await idp.introspect(token)).active) dead++;
  }
  return dead;
}
