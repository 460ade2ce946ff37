import type * as oauth from 'oauth4webapi';
import { realClock } from './clock.js';
import type { OAuthClient } from './client.js';
import { openableUrl } from './endpointUrls.js';
import { OAuthError, isOAuthError } from './errors.js';
import { defaultIntervalSeconds, maxCodeLifetimeSeconds, minimumPollIntervalMs, PollSchedule, startingInterval } from './pollSchedule.js';
import type { Clock, Logger, SignInResult } from './types.js';
import { silentLogger } from './types.js';
import { isPlainUserCode } from './userCode.js';

export { defaultIntervalSeconds } from './pollSchedule.js';

/** What a person needs to approve the sign-in on any device. */
export interface DeviceCodePrompt {
  /** Exactly as the identity provider sent it: what is copied to the clipboard. */
  userCode: string;
  /** The code is not made of the characters codes are made of (userCode.ts): show it as neutralized text, with a warning. */
  unusualUserCode?: boolean;
  /** https (or http on a loopback host): checked before it is shown or opened. */
  verificationUri: string;
  /** Dropped when it fails the same check. */
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
  /**
   * The least time between two polls, 1 s unless set. The extension never sets it; tests against the
   * local test IdP lower it so that hundreds of sign-ins do not each wait a second.
   */
  minimumIntervalMs?: number;
}

/**
 * Expiry times are whole seconds at most identity providers, which round the issue time down: a
 * code can expire up to a second before `expires_in` counted from the request. Within that second an
 * `invalid_grant` (the provider already forgot the code) still means "expired".
 */
const expiryRoundingMs = 1_000;

/**
 * The device authorization grant: ask for a code, hand it to `onPrompt`, then poll the token endpoint
 * no earlier than the interval in force, until tokens, denial, expiry or abort. An identity provider
 * that is unavailable for a while is polled more slowly until the code expires; a sign-in never ends
 * without either tokens or an error that says why.
 */
export async function signInWithDeviceGrant(client: OAuthClient, options: DeviceGrantOptions): Promise<SignInResult> {
  const clock = options.clock ?? realClock;
  const logger = options.logger ?? silentLogger;
  // Counted from the request: the identity provider counts from when it issued the code.
  const requestedAt = clock.now();
  const authorization = await client.startDeviceAuthorization(options.scopes, options.signal);
  const lifetime = codeLifetime(authorization.expires_in, logger);
  const expiresAt = requestedAt + lifetime * 1000;
  const prompt = promptFor(client, authorization, expiresAt, logger);
  const schedule = new PollSchedule(intervalFor(authorization.interval, lifetime, options.minimumIntervalMs ?? minimumPollIntervalMs, logger));

  options.onPrompt(prompt);
  logger.info(`Device sign-in started: polling every ${schedule.intervalMs / 1000} s for up to ${lifetime} s.`);

  let polls = 0;
  /** The last poll the identity provider may have acted on without its answer arriving, until a real answer. */
  let lostAnswer: OAuthError | undefined;
  let unavailable: OAuthError | undefined;
  for (;;) {
    const wait = schedule.nextWaitMs();
    if (clock.now() + wait > expiresAt) throw endedAtExpiry(lifetime, lostAnswer, unavailable);
    await clock.sleep(wait, options.signal);
    polls++;
    let answer: Awaited<ReturnType<OAuthClient['pollDeviceCode']>>;
    try {
      answer = await client.pollDeviceCode(authorization.device_code, options.scopes, options.signal);
    } catch (error) {
      throw finalError(error, { lostAnswer, expired: clock.now() >= expiresAt - expiryRoundingMs });
    }
    switch (answer.status) {
      case 'approved':
        logger.info(`Device sign-in approved after ${polls} polls.`);
        return answer.result;
      case 'pending':
        lostAnswer = unavailable = undefined;
        schedule.answered();
        break;
      case 'slow_down':
        lostAnswer = unavailable = undefined;
        schedule.slowDown(answer.retryAfterSeconds);
        logger.debug(`The identity provider asked to slow down; polling every ${schedule.intervalMs / 1000} s now.`);
        break;
      case 'unavailable':
        unavailable = answer.error;
        if (answer.error.details.answerLost) lostAnswer = answer.error;
        schedule.unavailable(answer.error.details.retryAfterSeconds);
        logger.warn(`Polling failed (${answer.error.message}); next poll in ${schedule.nextWaitMs() / 1000} s.`);
        break;
    }
  }
}

/** The prompt, with every URL checked before anyone sees or opens it. */
function promptFor(client: OAuthClient, authorization: oauth.DeviceAuthorizationResponse, expiresAt: number, logger: Logger): DeviceCodePrompt {
  const verificationUri = openableUrl(authorization.verification_uri, 'verification_uri', client.issuer).href;
  let verificationUriComplete: string | undefined;
  if (authorization.verification_uri_complete !== undefined) {
    try {
      verificationUriComplete = openableUrl(authorization.verification_uri_complete, 'verification_uri_complete', client.issuer).href;
    } catch (error) {
      logger.warn(`${(error as Error).message} The code is offered without it.`);
    }
  }
  const unusualUserCode = !isPlainUserCode(authorization.user_code);
  if (unusualUserCode) logger.warn('The identity provider sent a user code with characters codes do not have; it is shown as plain text, with a warning.');
  return {
    userCode: authorization.user_code,
    ...(unusualUserCode ? { unusualUserCode } : {}),
    verificationUri,
    ...(verificationUriComplete ? { verificationUriComplete } : {}),
    expiresAt,
    issuer: client.issuer.href,
    clientId: client.clientId,
  };
}

function codeLifetime(expiresIn: number, logger: Logger): number {
  if (expiresIn <= maxCodeLifetimeSeconds) return expiresIn;
  logger.info(`The identity provider gave the code ${expiresIn} s to live; waiting for its approval at most ${maxCodeLifetimeSeconds} s.`);
  return maxCodeLifetimeSeconds;
}

function intervalFor(announced: number | undefined, lifetime: number, floorMs: number, logger: Logger): number {
  const { intervalMs, adjusted } = startingInterval(announced, lifetime, floorMs);
  const every = `polling every ${intervalMs / 1000} s`;
  if (adjusted === 'absent') logger.debug(`The identity provider sent no polling interval; ${every} (RFC 8628's default is ${defaultIntervalSeconds} s).`);
  if (adjusted === 'floor') logger.debug(`The identity provider asked for a poll every ${announced} s; ${every}, the least this extension waits.`);
  if (adjusted === 'ceiling') logger.debug(`The identity provider asked for a poll every ${announced} s; ${every}: at most a minute, and at most half the time the code lives.`);
  return intervalMs;
}

/**
 * A poll's final error, read in the light of what came before: a lost answer, or the code's age.
 * After a lost answer, a refused code (invalid_grant, or expired_token at providers that say so of
 * a spent code) most likely means that the lost answer carried the tokens.
 */
function finalError(error: unknown, context: { lostAnswer: OAuthError | undefined; expired: boolean }): unknown {
  if (!isOAuthError(error)) return error;
  const code = error.details.oauthError;
  const details = { ...error.details, cause: error };
  if (context.lostAnswer && (code === 'invalid_grant' || code === 'expired_token')) {
    return new OAuthError('answer_lost', `An earlier poll's answer was lost (${context.lostAnswer.message}), and now the identity provider refuses the device code (${code}): that poll most likely signed you in, and a device code works only once.`, details);
  }
  if (code === 'invalid_grant' && context.expired) return new OAuthError('code_expired', 'The identity provider refused the device code (invalid_grant) once it had expired.', details);
  return error;
}

function endedAtExpiry(expiresIn: number, lostAnswer: OAuthError | undefined, unavailable: OAuthError | undefined): OAuthError {
  if (lostAnswer) {
    return new OAuthError('answer_lost', `A poll's answer was lost (${lostAnswer.message}), and the sign-in code expired before the identity provider answered again; the sign-in may have happened there without reaching VS Code.`, { ...lostAnswer.details, cause: lostAnswer });
  }
  if (unavailable) {
    return new OAuthError('idp_unavailable', `The identity provider could not answer the polls until the sign-in code expired after ${expiresIn} s; the last answer: ${unavailable.message}`, { ...unavailable.details, cause: unavailable });
  }
  return new OAuthError('code_expired', `The sign-in code expired after ${expiresIn} s without being approved.`);
}
