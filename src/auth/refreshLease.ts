import type { Clock } from '../oauth/types.js';
import type { SecretStoragePort } from './sessionStore.js';

export interface LeaseTiming {
  /**
   * How long a writer waits before checking its lease survived: longer than SecretStorage takes to
   * reach every window (desktop VS Code: 100-500 ms, more under load).
   */
  settleMs: number;
  /** A lease older than this is abandoned (its machine went away mid-refresh). */
  leaseMs: number;
}

// The lease outlasts one refresh, whose token request alone may take the 30 s request timeout.
export const defaultLeaseTiming: LeaseTiming = { settleMs: 800, leaseMs: 45_000 };

interface LeaseRecord {
  machine: string;
  until: number;
}

/**
 * A lock for refreshing one session among MACHINES that share SecretStorage (a desktop and its remote
 * hosts), where nothing but SecretStorage is shared. Windows of one machine are already one at a
 * time through the file lock; this lease only has to keep other machines out.
 *
 * It is best-effort, and can only be: SecretStorage has no compare-and-swap. "Write, wait longer than
 * storage takes to propagate, read back" leaves one writer holding it when both writes reach every
 * window within `settleMs`; under heavier delays two machines can both believe they hold it. One key
 * per session, so leases for different sessions never disturb each other.
 */
export class RefreshLease {
  constructor(
    private readonly secrets: SecretStoragePort,
    private readonly keyPrefix: string,
    /** This machine's id: leases are per machine, not per window. */
    private readonly machine: string,
    private readonly clock: Clock,
    private readonly timing: LeaseTiming = defaultLeaseTiming,
  ) {}

  /**
   * True when this machine now holds the lease for `sessionId`; false when another machine does.
   * `takeOver` ignores another machine's lease that looks live but was waited for long enough.
   */
  async tryAcquire(sessionId: string, options: { takeOver?: boolean; signal?: AbortSignal } = {}): Promise<boolean> {
    if (!options.takeOver && (await this.heldByOther(sessionId))) return false;
    const mine: LeaseRecord = { machine: this.machine, until: this.clock.now() + this.timing.leaseMs };
    await this.secrets.store(this.key(sessionId), JSON.stringify(mine));
    await this.clock.sleep(this.timing.settleMs, options.signal);
    const current = await this.read(sessionId);
    return current?.machine === this.machine;
  }

  async release(sessionId: string): Promise<void> {
    const current = await this.read(sessionId);
    if (current?.machine === this.machine) await this.secrets.delete(this.key(sessionId));
  }

  /** True while another machine holds a live lease for `sessionId`. */
  async heldByOther(sessionId: string): Promise<boolean> {
    const current = await this.read(sessionId);
    return !!current && current.machine !== this.machine && current.until > this.clock.now();
  }

  private key(sessionId: string): string {
    return `${this.keyPrefix}:${sessionId}`;
  }

  private async read(sessionId: string): Promise<LeaseRecord | undefined> {
    const raw = await this.secrets.get(this.key(sessionId));
    if (!raw) return undefined;
    try {
      const record = JSON.parse(raw) as Partial<LeaseRecord>;
      if (typeof record.machine === 'string' && typeof record.until === 'number') return record as LeaseRecord;
    } catch {
      // An unreadable lease protects nothing: treat it as free.
    }
    return undefined;
  }
}
