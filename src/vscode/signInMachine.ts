import type { DeviceCodePrompt } from '../oauth/deviceGrant.js';
import type { Logger, SignInResult } from '../oauth/types.js';
import { errorText } from '../oauth/errors.js';

// The interactive sign-in as a state machine: where a sign-in is (waiting for the browser, showing a
// code, asking for a pasted address, or ended) and the events that move it, in one table.
// interactiveSignIn.ts turns what the OAuth core reports into events; signInView.ts only renders the
// current state, and its surfaces' Cancel is an event like any other. Pure: no VS Code, so
// test/unit/signInMachine.test.ts walks every row.

/** Why a browser sign-in was left for its fallback (a code, or pasting the redirected address). */
export type LeftBecause =
  /** The browser did not reach this machine's /start within the browser check's time. */
  | 'checkMissed'
  /** The person chose "Use a code instead" / "Paste the address instead". */
  | 'asked'
  /** No browser could be opened where VS Code runs. */
  | 'noBrowser'
  /** VS Code cannot forward the redirect to the browser's machine: pasting is the only way back. */
  | 'notForwarded'
  /** The loopback port cannot be opened (a fixed port another sign-in holds): the identity provider's device grant instead. */
  | 'portUnavailable';

export type SignInState =
  /** Reading the identity provider's capabilities and, for a sign-in that starts with a code, requesting it. */
  | { name: 'starting' }
  /** The browser sign-in runs; `hint` once the browser went to the identity provider and never came back. */
  | { name: 'browserWaiting'; hint?: { redirectUri: string } }
  /**
   * The browser sign-in was left; its fallback is on its way: a code being requested, or the address
   * to paste being prepared (the person may ask to paste before the browser sign-in has one).
   * `detail`: the core's words for why, when a failure made the sign-in leave.
   */
  | { name: 'browserLeft'; because: LeftBecause; detail?: string }
  /** The device code is shown; `because` when the sign-in came here from the browser. */
  | { name: 'codeShown'; prompt: DeviceCodePrompt; because?: LeftBecause; detail?: string }
  /** The person is asked to paste the address the browser was sent to. */
  | { name: 'pasteAsked'; because: LeftBecause }
  | { name: 'done'; result: SignInResult }
  | { name: 'failed'; error: unknown }
  | { name: 'cancelled'; error: unknown };

export type SignInEvent =
  /** Reading the identity provider's capabilities failed, or it offers no flow this extension can use. */
  | { type: 'startFailed'; error: unknown }
  | { type: 'browserStarted' }
  /** The browser sign-in has been waiting long enough to say the identity provider may refuse the redirect. */
  | { type: 'noReturnNoticed'; redirectUri: string }
  | { type: 'checkMissed' }
  | { type: 'switchAsked' }
  | { type: 'browserUnavailable' }
  | { type: 'redirectNotForwarded' }
  /** The browser sign-in cannot listen on its port, and the identity provider offers a code instead. */
  | { type: 'portUnavailable'; error: unknown }
  | { type: 'codeReady'; prompt: DeviceCodePrompt }
  | { type: 'pasteReady' }
  | { type: 'signedIn'; result: SignInResult }
  /** The browser sign-in (loopback, or the paste step it validates) failed. */
  | { type: 'browserFailed'; error: unknown }
  /** The device grant failed. */
  | { type: 'codeFailed'; error: unknown }
  /** The browser sign-in was left for pasting, but it failed before it had an address to paste. */
  | { type: 'nothingToPaste'; error: unknown }
  /** Cancel in any surface, or the caller went away. */
  | { type: 'cancelled'; error: unknown };

export type StateName = SignInState['name'];
export type EventName = SignInEvent['type'];

const ends = { signedIn: 'done', cancelled: 'cancelled' } as const;

/**
 * Every move a sign-in can make: from a state, on an event, to a state. An event a state does not
 * list changes nothing (a late browser check after the switch, the loopback's failure once the code
 * is shown: then only the device grant's failure ends the sign-in, and a slow browser may still
 * finish it). Every state that is not final takes `cancelled`: Cancel ends a sign-in at once,
 * whatever its halves are still doing.
 */
export const transitions: Readonly<Record<StateName, Readonly<Partial<Record<EventName, StateName>>>>> = {
  starting: { startFailed: 'failed', browserStarted: 'browserWaiting', codeReady: 'codeShown', codeFailed: 'failed', browserFailed: 'failed', ...ends },
  browserWaiting: {
    noReturnNoticed: 'browserWaiting',
    checkMissed: 'browserLeft',
    switchAsked: 'browserLeft',
    browserUnavailable: 'browserLeft',
    redirectNotForwarded: 'browserLeft',
    portUnavailable: 'browserLeft',
    browserFailed: 'failed',
    ...ends,
  },
  browserLeft: { codeReady: 'codeShown', pasteReady: 'pasteAsked', codeFailed: 'failed', nothingToPaste: 'failed', ...ends },
  codeShown: { codeFailed: 'failed', ...ends },
  pasteAsked: { browserFailed: 'failed', ...ends },
  done: {},
  failed: {},
  cancelled: {},
};

export const finalStates: readonly StateName[] = ['done', 'failed', 'cancelled'];

const leftBecause: Partial<Record<EventName, LeftBecause>> = {
  checkMissed: 'checkMissed',
  switchAsked: 'asked',
  browserUnavailable: 'noBrowser',
  redirectNotForwarded: 'notForwarded',
  portUnavailable: 'portUnavailable',
};

/** The state after `event`, or undefined when `state` does not take that event. */
export function nextState(state: SignInState, event: SignInEvent): SignInState | undefined {
  const target = transitions[state.name][event.type];
  if (!target) return undefined;
  const because = 'because' in state ? state.because : undefined;
  const detail = 'detail' in state ? state.detail : undefined;
  switch (target) {
    case 'starting':
      return { name: 'starting' };
    case 'browserWaiting':
      return event.type === 'noReturnNoticed' ? { name: 'browserWaiting', hint: { redirectUri: event.redirectUri } } : { name: 'browserWaiting' };
    case 'browserLeft': {
      const why = event.type === 'portUnavailable' ? errorText(event.error) : undefined;
      return { name: 'browserLeft', because: leftBecause[event.type] ?? 'asked', ...(why ? { detail: why } : {}) };
    }
    case 'codeShown':
      return event.type === 'codeReady' ? { name: 'codeShown', prompt: event.prompt, ...(because ? { because } : {}), ...(detail ? { detail } : {}) } : undefined;
    case 'pasteAsked':
      return { name: 'pasteAsked', because: because ?? 'asked' };
    case 'done':
      return event.type === 'signedIn' ? { name: 'done', result: event.result } : undefined;
    case 'failed':
    case 'cancelled':
      return 'error' in event ? { name: target, error: event.error } : undefined;
  }
}

/**
 * One sign-in's machine: the current state, and who watches it. `ended` settles with the sign-in's
 * result once a final state is reached. An event dispatched while watchers run (a watcher starting
 * the fallback) is applied after them, so every watcher sees every state in order.
 */
export class SignInMachine {
  private current: SignInState = { name: 'starting' };
  private readonly watchers: Array<(state: SignInState, previous: SignInState) => void> = [];
  private readonly queue: SignInEvent[] = [];
  private applying = false;
  private settle!: { resolve: (result: SignInResult) => void; reject: (error: unknown) => void };
  readonly ended: Promise<SignInResult>;

  constructor(private readonly logger?: Pick<Logger, 'debug' | 'error'>) {
    this.ended = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // Whoever runs the machine awaits `ended`; this keeps an early failure from counting as unhandled.
    this.ended.catch(() => undefined);
  }

  get state(): SignInState {
    return this.current;
  }

  /** Calls `watcher` on every change of state, after the change. */
  watch(watcher: (state: SignInState, previous: SignInState) => void): void {
    this.watchers.push(watcher);
  }

  dispatch(event: SignInEvent): void {
    this.queue.push(event);
    if (this.applying) return;
    this.applying = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) this.apply(next);
    } finally {
      this.applying = false;
    }
  }

  private apply(event: SignInEvent): void {
    const previous = this.current;
    const next = nextState(previous, event);
    if (!next) {
      this.logger?.debug(`Sign-in: ${event.type} changes nothing in state ${previous.name}.`);
      return;
    }
    this.current = next;
    this.logger?.debug(`Sign-in: ${previous.name} --${event.type}--> ${next.name}${'because' in next && next.because ? ` (${next.because})` : ''}.`);
    for (const watcher of this.watchers) {
      try {
        watcher(next, previous);
      } catch (error) {
        this.logger?.error(`Sign-in: showing state ${next.name} failed: ${errorText(error)}`);
      }
    }
    if (next.name === 'done') this.settle.resolve(next.result);
    else if (next.name === 'failed' || next.name === 'cancelled') this.settle.reject(next.error);
  }
}
