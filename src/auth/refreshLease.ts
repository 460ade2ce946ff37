import { randomUUID } from 'node:crypto';
import type { Clock } from '../oauth/types.js';
import type { SecretStoragePort } from './sessionStore.js';

export interface LeaseTiming {
  /** How long a writer waits before checking its lease survived: longer than one storage round trip. */
  settleMs: number;
  /** A lease older than this is abandoned (its window crashed or went to sleep). */
  leaseMs: number;
}

export const defaultLeaseTiming: LeaseTiming = { settleMs: 150, leaseMs: 45_000 };

interface LeaseRecord {
  owner: string;
  until: number;
}

/**
 * A best-effort cross-window lock for refreshing one session, kept in SecretStorage (the only thing
 * all windows share), one key per session so locks for different sessions never disturb each other. Identity providers that rotate refresh tokens revoke the whole grant when an
 * old one is replayed, so two windows must never refresh the same session at once. SecretStorage
 * has no compare-and-swap; "write, wait, read back" makes the last writer the only holder, provided
 * both writes land within `settleMs`.
 */
export class RefreshLease {
  readonly owner = randomUUID();

  constructor(
    private readonly secrets: SecretStoragePort,
    private readonly keyPrefix: string,
    private readonly clock: Clock,
    private readonly timing: LeaseTiming = defaultLeaseTiming,
  ) {}

  /** True when this window now holds the lease for `sessionId`; false when another window does. */
  async tryAcquire(sessionId: string): Promise<boolean> {
    if (await this.heldByOther(sessionId)) return false;
    const mine: LeaseRecord = { owner: this.owner, until: this.clock.now() + this.timing.leaseMs };
    await this.secrets.store(this.key(sessionId), JSON.stringify(mine));
    await this.clock.sleep(this.timing.settleMs);
    const current = await this.read(sessionId);
    return current?.owner === this.owner;
  }

  async release(sessionId: string): Promise<void> {
    const current = await this.read(sessionId);
    if (current?.owner === this.owner) await this.secrets.delete(this.key(sessionId));
  }

  /** True while another window holds a live lease for `sessionId`. */
  async heldByOther(sessionId: string): Promise<boolean> {
    const current = await this.read(sessionId);
    return !!current && current.owner !== this.owner && current.until > this.clock.now();
  }

  private key(sessionId: string): string {
    return `${this.keyPrefix}:${sessionId}`;
  }

  private async read(sessionId: string): Promise<LeaseRecord | undefined> {
    const raw = await this.secrets.get(this.key(sessionId));
    if (!raw) return undefined;
    try {
      const record = JSON.parse(raw) as Partial<LeaseRecord>;
      if (typeof record.owner === 'string' && typeof record.until === 'number') return record as LeaseRecord;
    } catch {
      // An unreadable lease protects nothing: treat it as free.
    }
    return undefined;
  }
}
