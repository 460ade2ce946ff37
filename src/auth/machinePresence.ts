import type { SecretStoragePort } from './sessionStore.js';

const keyPrefix = 'oauth-anywhere.machine:';
/** A machine id not heard of for this long is deleted (runtime directories are cleared at logout, ids change). */
const forgetForGoodMs = 7 * 24 * 3_600_000;

export interface PresenceTiming {
  /** A machine announces itself at most this often while it has windows that refresh. */
  announceEveryMs: number;
  /** A machine not heard of for this long is taken to be gone. */
  forgetAfterMs: number;
}

export const defaultPresenceTiming: PresenceTiming = { announceEveryMs: 30 * 60_000, forgetAfterMs: 75 * 60_000 };

/**
 * Which machines share this SecretStorage (a desktop and the remote hosts its windows connect to).
 * While a window runs, its machine announces itself every half hour under a key of its own; the
 * cross-machine refresh lease, which costs a wait longer than storage takes to propagate, is only
 * needed while another machine is around. Wall-clock time: this is about machines that run now.
 */
export class MachinePresence {
  private announcedAt = Number.NEGATIVE_INFINITY;
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly secrets: SecretStoragePort,
    readonly machineId: string,
    private readonly timing: PresenceTiming = defaultPresenceTiming,
    private readonly now: () => number = Date.now,
  ) {}

  /** Says this machine is here (a write at most every announceEveryMs), and keeps saying it until disposed. */
  async announce(): Promise<void> {
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => void this.announce().catch(() => undefined), this.timing.announceEveryMs);
      this.heartbeat.unref?.();
    }
    if (this.now() - this.announcedAt < this.timing.announceEveryMs) return;
    this.announcedAt = this.now();
    await this.secrets.store(keyPrefix + this.machineId, JSON.stringify({ seenAt: this.announcedAt }));
  }

  dispose(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** True when another machine announced itself recently. Machines gone for a week are forgotten. */
  async othersAround(): Promise<boolean> {
    const others = (await this.secrets.keys()).filter((key) => key.startsWith(keyPrefix) && key !== keyPrefix + this.machineId);
    let around = false;
    for (const key of others) {
      const age = this.now() - (parseSeenAt(await this.secrets.get(key)) ?? 0);
      if (age < this.timing.forgetAfterMs) around = true;
      else if (age > forgetForGoodMs) await this.secrets.delete(key);
    }
    return around;
  }
}

function parseSeenAt(raw: string | undefined): number | undefined {
  try {
    const seenAt = raw ? (JSON.parse(raw) as { seenAt?: unknown }).seenAt : undefined;
    return typeof seenAt === 'number' ? seenAt : undefined;
  } catch {
    return undefined;
  }
}
