import { describeDuration } from './duration.js';
import { OAuthError, isOAuthError } from './errors.js';

export interface HttpLimits {
  /** Every request to the identity provider gets an answer or an error within this time. */
  timeoutMs: number;
  /** A larger body is refused instead of being buffered: identity provider answers are small. */
  maxBodyBytes: number;
}

export const defaultHttpLimits: HttpLimits = { timeoutMs: 30_000, maxBodyBytes: 1024 * 1024 };

/** Counts requests for the activation and hot-path benchmarks. */
export interface HttpObserver {
  (url: string, method: string): void;
}

/**
 * The fetch oauth4webapi uses: a per-request timeout merged with the caller's AbortSignal, a bounded
 * body, and network failures turned into OAuthErrors that name the host but no query string (a query
 * can hold a code).
 */
export function boundedFetch(limits: HttpLimits, observe?: HttpObserver) {
  return async (url: string, init: RequestInit): Promise<Response> => {
    const target = new URL(url);
    const where = `${target.origin}${target.pathname}`;
    observe?.(where, init.method ?? 'GET');
    const timeout = AbortSignal.timeout(limits.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal, redirect: 'manual' });
    } catch (error) {
      throw requestFailure(error, where, limits.timeoutMs, timeout, init.signal ?? undefined);
    }
    let body: Uint8Array;
    try {
      body = await readBounded(response, limits.maxBodyBytes, where);
    } catch (error) {
      if (isOAuthError(error)) throw error;
      throw requestFailure(error, where, limits.timeoutMs, timeout, init.signal ?? undefined);
    }
    const nullBody = [101, 204, 205, 304].includes(response.status);
    return new Response(nullBody ? null : (body as unknown as BodyInit), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

async function readBounded(response: Response, maxBytes: number, where: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(where, maxBytes);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw tooLarge(where, maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(where: string, maxBytes: number): OAuthError {
  return new OAuthError('too_large', `The identity provider's answer from ${where} is larger than ${Math.round(maxBytes / 1024)} KiB, so it was not read.`);
}

function requestFailure(
  error: unknown,
  where: string,
  timeoutMs: number,
  timeout: AbortSignal,
  callerSignal: AbortSignal | undefined,
): OAuthError {
  if (callerSignal?.aborted) {
    const reason: unknown = callerSignal.reason;
    return isOAuthError(reason) ? reason : new OAuthError('cancelled', 'Sign-in was cancelled.');
  }
  if (timeout.aborted) {
    // The request went out: the identity provider may have acted on it and answered too late.
    return new OAuthError('timeout', `The identity provider did not answer within ${describeDuration(timeoutMs)} (${where}).`, { answerLost: true });
  }
  const code = networkCode(error);
  return new OAuthError('network', `Could not reach the identity provider at ${where}${code ? ` (${code})` : ''}.`, {
    cause: error,
    answerLost: !code || !notSentCodes.has(code),
  });
}

/** Failures that happen before a request reaches the server; any other one may have lost an answer. */
const notSentCodes: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID']);

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
