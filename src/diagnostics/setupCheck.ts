import { realClock } from '../oauth/clock.js';
import type { IdpCapabilities, OAuthClient } from '../oauth/client.js';
import { listedStrings } from '../oauth/metadataLists.js';
import type { Clock } from '../oauth/types.js';

/** What "OAuth Anywhere: Configure" learned before saving anything. */
export type SetupCheck =
  | {
      ok: true;
      /** The issuer exactly as the discovery document states it. */
      issuer: string;
      elapsedMs: number;
      /** Sign-in capabilities the identity provider lacks, one sentence each; empty when it has all. */
      gaps: string[];
    }
  | { ok: false; problem: string };

/** The part of OAuthClient this check uses (tests pass their own). */
export type SetupClient = Pick<OAuthClient, 'metadata' | 'capabilities'>;

/**
 * Reads the discovery document of an issuer a person typed in and says whether signing in can work
 * and what will be missing. `createClient` builds the client (and throws for an issuer that can never
 * work: plain http to a real host, no client id). Only public metadata is read.
 */
export async function checkIdentityProvider(createClient: () => SetupClient, clock: Clock = realClock): Promise<SetupCheck> {
  let client: SetupClient;
  try {
    client = createClient();
  } catch (error) {
    return { ok: false, problem: messageOf(error) };
  }
  const started = clock.now();
  let metadata;
  let capabilities: IdpCapabilities;
  try {
    metadata = await client.metadata();
    capabilities = await client.capabilities();
  } catch (error) {
    return { ok: false, problem: messageOf(error) };
  }
  const elapsedMs = clock.now() - started;
  if (!capabilities.authorizationCode && !capabilities.deviceGrant) {
    return { ok: false, problem: `${metadata.issuer} offers neither the authorization code grant nor the device grant, so there is no way to sign in with it.` };
  }
  const pkce = listedStrings(metadata.code_challenge_methods_supported);
  const grants = listedStrings(metadata.grant_types_supported);
  const gaps = [
    !capabilities.deviceGrant && 'No device authorization endpoint: signing in with a code (over SSH, in containers, in the browser) is not possible; the browser sign-in is used instead.',
    !capabilities.authorizationCode && 'No authorization code grant: only signing in with a code is possible.',
    capabilities.authorizationCode && !pkce?.includes('S256') && `PKCE S256 is ${pkce ? 'not offered' : 'not listed'}: this extension always sends it, and the identity provider may refuse the sign-in.`,
    grants && !grants.includes('refresh_token') && 'No refresh tokens: you will sign in again each time an access token expires.',
  ].filter((gap): gap is string => typeof gap === 'string');
  return { ok: true, issuer: metadata.issuer, elapsedMs, gaps };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
