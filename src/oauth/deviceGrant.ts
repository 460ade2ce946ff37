import { realClock } from './clock.js';
import type { OAuthClient } from './client.js';
import { OAuthError, isOAuthError } from './errors.js';
import type { Clock, Logger, SignInResult } from './types.js';
import { silentLogger } from './types.js';

/** What a person needs to approve the sign-in on any device. */
export interface DeviceCodePrompt {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Epoch ms after which the code is no longer accepted. */
  expiresAt: number;
  /** Shown with the code so a person can spot a code they did not ask for. */
  issuer: string;
  clientId: string;
}

export interface DeviceGrantOptions {
  scopes: readonly string[];
  /** Called once, before the first poll. */
  onPrompt(prompt: DeviceCodePrompt): void;
  signal?: AbortSignal;
  clock?: Clock;
  logger?: Logger;
}

/** RFC 8628 3.5: when the server sends no interval, poll every 5 s. */
export const defaultIntervalSeconds = 5;
const slowDownStepMs = 5_000;
/** Connection trouble while polling backs off (RFC 8628 3.5) instead of failing a half-done sign-in. */
const maxConsecutiveTransientFailures = 4;

/**
 * The device authorization grant: ask for a code, hand it to `onPrompt`, then poll the token endpoint
 * no earlier than the interval in force, until tokens, denial, expiry or abort.
 */
export async function signInWithDeviceGrant(client: OAuthClient, options: DeviceGrantOptions): Promise<SignInResult> {
  const clock = options.clock ?? realClock;
  const logger = options.logger ?? silentLogger;
  const authorization = await client.startDeviceAuthorization(options.scopes, options.signal);
  const startedAt = clock.now();
  const expiresAt = startedAt + authorization.expires_in * 1000;
  let intervalMs = (authorization.interval ?? defaultIntervalSeconds) * 1000;

  options.onPrompt({
    userCode: authorization.user_code,
    verificationUri: authorization.verification_uri,
    verificationUriComplete: authorization.verification_uri_complete,
    expiresAt,
    issuer: client.issuer.href,
    clientId: client.clientId,
  });
  logger.info(`Device sign-in started: polling every ${intervalMs / 1000} s for up to ${authorization.expires_in} s.`);

  let polls = 0;
  let transientFailures = 0;
  for (;;) {
    if (clock.now() + intervalMs > expiresAt) throw expiredError();
    await clock.sleep(intervalMs, options.signal);
    polls++;
    try {
      const answer = await client.pollDeviceCode(authorization.device_code, options.scopes, options.signal);
      transientFailures = 0;
      if (answer.status === 'approved') {
        logger.info(`Device sign-in approved after ${polls} polls.`);
        return answer.result;
      }
      if (answer.status === 'slow_down') {
        intervalMs += slowDownStepMs;
        logger.debug(`The identity provider asked to slow down; polling every ${intervalMs / 1000} s now.`);
      }
    } catch (error) {
      if (isOAuthError(error, 'expired')) throw expiredError();
      if (!isTransient(error) || ++transientFailures > maxConsecutiveTransientFailures) throw error;
      intervalMs *= 2;
      logger.warn(`Polling failed (${(error as OAuthError).message}); retrying every ${intervalMs / 1000} s.`);
    }
  }
}

function isTransient(error: unknown): boolean {
  if (isOAuthError(error) && error.details.grantRedeemed) return false;
  return isOAuthError(error, 'timeout') || isOAuthError(error, 'network') || (isOAuthError(error, 'idp_error') && error.details.status === 503);
}

function expiredError(): OAuthError {
  return new OAuthError('expired', 'The sign-in code expired before it was approved. Start the sign-in again to get a new code.');
}
