import type { DeviceCodePrompt } from '../../src/oauth/deviceGrant.js';
import type { BrowserWaitOptions, PasteOptions, SignInSurfaces } from '../../src/vscode/signInView.js';

export type Surface =
  | { kind: 'preparing'; message: string }
  | { kind: 'browserWait'; options: BrowserWaitOptions }
  | { kind: 'deviceCode'; prompt: DeviceCodePrompt; switchedBecause?: string | undefined }
  | { kind: 'paste'; options: PasteOptions };

export type SurfaceKind = Surface['kind'];

/** A surface as the person sees it: open until the sign-in closes it, with its Cancel button. */
export type Shown<K extends SurfaceKind = SurfaceKind> = Extract<Surface, { kind: K }> & {
  open: boolean;
  cancel(): void;
};

/**
 * The sign-in's surfaces as a test sees them, in place of VS Code's notifications and paste box
 * (src/vscode/prompts.ts): every surface shown is recorded, in order, with its Cancel, and stays open
 * until the sign-in closes it. Nothing is drawn and nothing is clicked by itself.
 */
export class RecordingSurfaces implements SignInSurfaces {
  readonly shown: Shown[] = [];
  private readonly waiting: Array<() => void> = [];

  withPreparing(options: { issuerHost: string; message: string }, cancel: () => void, until: Promise<void>): Promise<void> {
    return this.record({ kind: 'preparing', message: options.message }, cancel, until);
  }

  withBrowserWait(options: BrowserWaitOptions, cancel: () => void, until: Promise<void>): Promise<void> {
    return this.record({ kind: 'browserWait', options }, cancel, until);
  }

  withDeviceCode(prompt: DeviceCodePrompt, cancel: () => void, until: Promise<void>, switchedBecause?: string): Promise<void> {
    return this.record({ kind: 'deviceCode', prompt, switchedBecause }, cancel, until);
  }

  askForPaste(options: PasteOptions, cancel: () => void, until: Promise<void>): Promise<void> {
    return this.record({ kind: 'paste', options }, cancel, until);
  }

  /** The kinds shown so far, in order. */
  kinds(): SurfaceKind[] {
    return this.shown.map((surface) => surface.kind);
  }

  /** The surface of `kind` that is open now, or the next one shown; fails after `timeoutMs`. */
  async open<K extends SurfaceKind>(kind: K, timeoutMs = 10_000): Promise<Shown<K>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.shown.find((surface): surface is Shown<K> => surface.kind === kind && surface.open);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`No ${kind} surface within ${timeoutMs} ms; shown: ${this.kinds().join(', ') || 'none'}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private record(surface: Surface, cancel: () => void, until: Promise<void>): Promise<void> {
    const shown = { ...surface, open: true, cancel } as Shown;
    this.shown.push(shown);
    for (const wake of this.waiting.splice(0)) wake();
    return until.then(() => {
      shown.open = false;
    });
  }
}
