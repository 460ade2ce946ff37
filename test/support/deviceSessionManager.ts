import type { MachineCoordination } from '../../src/auth/coordination.js';
import type { LeaseTiming } from '../../src/auth/refreshLease.js';
import { SessionManager } from '../../src/auth/sessionManager.js';
import type { SecretStoragePort } from '../../src/auth/sessionStore.js';
import { OAuthClient } from '../../src/oauth/client.js';
import { signInWithDeviceGrant, type DeviceCodePrompt } from '../../src/oauth/deviceGrant.js';
import { Redactor } from '../../src/oauth/redact.js';
import { silentLogger, type Clock, type Logger } from '../../src/oauth/types.js';
import type { TestIdp } from './idp.js';
import { meanwhile } from './meanwhile.js';

export const defaultTestScopes = ['openid', 'profile', 'email', 'offline_access'];

/**
 * The test IdP announces intervals of a fraction of a second, so that the hundreds of device sign-ins
 * of the suite take no time. The extension never polls more often than once a second
 * (src/oauth/pollSchedule.ts); tests that are not about polling lift that floor with this.
 */
export const fastPolling = { minimumIntervalMs: 0 } as const;

/**
 * One window's provider logic whose sign-in is the device grant, approved at once by the "user" at
 * the test IdP (unless `onPrompt` takes the code instead): the thinnest stand-in for the VS Code
 * prompts. The sign-in ends when the request's signal is aborted.
 */
export function deviceSessionManager(
  idp: TestIdp,
  secrets: SecretStoragePort,
  options: { logger?: Logger; clock?: Clock; leaseTiming?: LeaseTiming; scopes?: readonly string[]; coordination?: MachineCoordination; reconcileDelayMs?: number; catchUpMs?: number; onPrompt?: (prompt: DeviceCodePrompt) => void } = {},
): { manager: SessionManager; client: OAuthClient } {
  const scopes = options.scopes ?? defaultTestScopes;
  const logger = options.logger ?? silentLogger;
  const client = new OAuthClient({ issuer: idp.issuer, clientId: idp.clientId, scopes }, { logger, clock: options.clock });
  const manager = new SessionManager({
    providerId: 'oauth-anywhere',
    client,
    configuredScopes: scopes,
    secrets,
    signIn: (request) =>
      signInWithDeviceGrant(client, {
        ...fastPolling,
        logger,
        scopes: request.scopes,
        signal: request.signal,
        onPrompt: options.onPrompt ?? ((prompt) => meanwhile(idp.approveDevice(prompt.userCode))),
      }),
    logger,
    redactor: new Redactor(),
    clock: options.clock,
    leaseTiming: options.leaseTiming,
    coordination: options.coordination,
    reconcileDelayMs: options.reconcileDelayMs,
    catchUpMs: options.catchUpMs,
  });
  return { manager, client };
}
