import type { SecretStoragePort } from './sessionStore.js';

const keyPrefix = 'oauth-anywhere.machine:';

export interface PresenceTiming {
  /** A machine announces itself at most this often while it has windows that refresh. */
  announceEveryMs: number;
  /** A machine not heard of for this long is taken to be gone. */
  forgetAfterMs: number;
}

export const defaultPresenceTiming: PresenceTiming = { announceEveryMs: 30 * 60_000, forgetAfterMs: 2 * 3_600_000 };

/**
 * Which machines share this SecretStorage (a desktop and the remote hosts its windows connect to).
 * Each announces itself under a key of its own; the cross-machine refresh lease, which costs a wait
 * longer than storage takes to propagate, is only needed while another machine is around.
 */
export class MachinePresence {
  private announcedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly secrets: SecretStoragePort,
    readonly machineId: string,
    private readonly now: () => number = Date.now,
    private readonly timing: PresenceTiming = defaultPresenceTiming,
  ) {}

  /** Says this machine is here (a write at most every announceEveryMs). */
  async announce(): Promise<void> {
    if (this.now() - this.announcedAt < this.timing.announceEveryMs) return;
    this.announcedAt = this.now();
    await this.secrets.store(keyPrefix + this.machineId, JSON.stringify({ seenAt: this.announcedAt }));
  }

  /** True when another machine announced itself recently. */
  async othersAround(): Promise<boolean> {
    const others = (await this.secrets.keys()).filter((key) => key.startsWith(keyPrefix) && key !== keyPrefix + this.machineId);
    for (const key of others) {
      const seenAt = parseSeenAt(await this.secrets.get(key));
      if (seenAt !== undefined && this.now() - seenAt < this.timing.forgetAfterMs) return true;
    }
    return false;
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
