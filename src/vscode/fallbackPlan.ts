import type { FlowCapabilities, FlowChoice, FlowSetting } from '../oauth/chooseFlow.js';

/** How long a browser sign-in waits for the browser at /start unless the setting says otherwise. */
export const defaultBrowserCheckSeconds = 15;

/** What a browser (loopback) sign-in does when the browser turns out to be elsewhere. */
export interface BrowserFallbackPlan {
  /** How long the browser has to reach /start; undefined: no check, the identity provider opens directly. */
  browserCheckMs: number | undefined;
  /** Where the sign-in goes when the browser is elsewhere, automatically or from the notification's link. */
  fallback: 'device' | 'paste';
}

/**
 * Pure, so every row is tested without VS Code.
 * - The device grant is the fallback when the flow choice lists it, and also for `flow: "loopback"` when
 *   the person asked for the browser check: that setting says "switch me to a code if the browser never
 *   arrives". Everywhere else the fallback is pasting the redirected address, which always works.
 * - `browserCheckSeconds` unset: the check runs when the browser sign-in was picked automatically
 *   (a guess about where the browser is), not when `flow: "loopback"` was set (the person told us).
 *   A number wins either way; 0 turns the check off.
 */
export function planBrowserFallback(choice: FlowChoice, capabilities: FlowCapabilities, flowSetting: FlowSetting, browserCheckSeconds: unknown): BrowserFallbackPlan {
  const explicit = typeof browserCheckSeconds === 'number' && Number.isFinite(browserCheckSeconds) && browserCheckSeconds >= 0 ? browserCheckSeconds : undefined;
  const seconds = explicit ?? (flowSetting === 'auto' ? defaultBrowserCheckSeconds : 0);
  const askedForSwitch = flowSetting === 'loopback' && explicit !== undefined && explicit > 0;
  const device = choice.flows.includes('device') || (askedForSwitch && capabilities.deviceGrant);
  return {
    browserCheckMs: seconds > 0 ? Math.round(seconds * 1000) : undefined,
    fallback: device ? 'device' : 'paste',
  };
}

/**
 * Where a browser sign-in that was left goes: the plan's fallback, whatever the reason it left (a
 * port that could not be opened makes it leave only when that fallback is the device grant: a paste
 * needs the port too). A sign-in that starts with a code has no plan.
 */
export function fallbackFor(plan: BrowserFallbackPlan | undefined): BrowserFallbackPlan['fallback'] {
  return plan?.fallback ?? 'device';
}
