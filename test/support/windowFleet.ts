// Several VS Code windows of one provider on one machine, each with its own SecretStorage view from
// the storage model (memorySecretStorage.ts) and its own provider logic, against the real test IdP.
// Shared by the multi-window suites and the benchmark, so both measure the same thing.
import { MachineCoordination } from '../../src/auth/coordination.js';
import type { LeaseTiming } from '../../src/auth/refreshLease.js';
import type { AuthSession, AuthSessionChanges, SessionManager } from '../../src/auth/sessionManager.js';
import { deviceSessionManager } from './deviceSessionManager.js';
import type { TestIdp } from './idp.js';
import { captureLogger } from './logs.js';
import { createSharedSecrets, type MemorySecretStorage, type Propagation, type SharedSecrets } from './memorySecretStorage.js';
import { movableClock } from './clocks.js';
import { scratchDirectory } from './scratch.js';

export interface FleetWindow {
  manager: SessionManager;
  coordination: MachineCoordination;
  machine: number;
  secrets: MemorySecretStorage;
  logs: string[];
  events: AuthSessionChanges[];
}

export interface Fleet {
  readonly shared: SharedSecrets;
  readonly clock: ReturnType<typeof movableClock>;
  readonly windows: FleetWindow[];
  /**
   * Opens one more window on machine `machine` (windows of one machine share a runtime directory:
   * refresh locks and sockets; all machines share SecretStorage). Its storage copy starts as what is
   * stored now.
   */
  open(machine?: number): FleetWindow;

  dispose(): void;
}

/** Configured scopes small enough that `profile` and `email` requests make two sessions of one account. */
export const fleetScopes = ['openid', 'offline_access'];

export interface FleetOptions {
  seed?: number;
  /** The cross-machine lease's timing; by default one that outlasts the storage model's worst delay. */
  leaseTiming?: LeaseTiming;
}

export function openFleet(idp: TestIdp, propagation: Propagation, options: FleetOptions = {}): Fleet {
  const shared = createSharedSecrets(undefined, propagation, options.seed ?? 1);
  const clock = movableClock();
  const windows: FleetWindow[] = [];
  const machines = new Map<number, string>();
  const close = (window: FleetWindow) => {
    window.manager.dispose();
    window.coordination.dispose();
  };
  return {
    shared,
    clock,
    windows,
    open(machine = 0) {
      const logs: string[] = [];
      const logger = captureLogger(logs);
      const secrets = shared.window();
      if (!machines.has(machine)) machines.set(machine, scratchDirectory('oa-m'));
      const coordination = new MachineCoordination(logger, { directory: machines.get(machine)! });
      const { manager } = deviceSessionManager(idp, secrets, { logger, clock, scopes: fleetScopes, coordination, leaseTiming: options.leaseTiming });
      manager.watch();
      const window: FleetWindow = { manager, coordination, machine, secrets, logs, events: [] };
      manager.onDidChangeSessions((changes) => window.events.push(changes));
      windows.push(window);
      return window;
    },
    dispose() {
      for (const window of windows) close(window);
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
