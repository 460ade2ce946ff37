/**
 * What a person pasted when the browser could not deliver the sign-in redirect to VS Code: the whole
 * address the browser was sent to (http://127.0.0.1:PORT/callback?code=…&state=…&iss=…), just its
 * query, or the bare authorization code. Parsing only; `loopback.ts` validates and redeems it.
 */
export type PastedResponse =
  | { kind: 'parameters'; parameters: URLSearchParams; path?: string }
  | { kind: 'code'; code: string }
  | { kind: 'unrecognized'; reason: string };

/** Authorization codes are opaque, but never contain spaces, and are never this short. */
const bareCode = /^[\w.~+/=-]{6,}$/;

export function parsePastedResponse(text: string): PastedResponse {
  // Copied from a terminal, a chat or a ticket: quotes, angle brackets and line breaks come along.
  const trimmed = text.trim().replace(/^["'<]+|["'>]+$/g, '').trim();
  if (!trimmed) return { kind: 'unrecognized', reason: 'Nothing was pasted.' };
  // A wrapped address is joined again; a code never has a blank in it.
  const pasted = trimmed.replace(/\s+/g, '');

  const fromUrl = asUrl(pasted);
  if (fromUrl) {
    const parameters = responseParameters(fromUrl);
    if (parameters) return { kind: 'parameters', parameters, path: fromUrl.pathname };
    return { kind: 'unrecognized', reason: 'That address carries no sign-in response (no "code" or "error" in it). Paste the address the browser shows after you approved the sign-in.' };
  }
  if (/[?&=]/.test(pasted)) {
    const parameters = new URLSearchParams(pasted.slice(pasted.indexOf('?') + 1));
    if (parameters.has('code') || parameters.has('error')) return { kind: 'parameters', parameters };
    return { kind: 'unrecognized', reason: 'That text carries no sign-in response (no "code" or "error" in it).' };
  }
  if (bareCode.test(trimmed)) return { kind: 'code', code: trimmed };
  return { kind: 'unrecognized', reason: 'That is neither an address nor an authorization code.' };
}

function asUrl(text: string): URL | undefined {
  if (!/^https?:\/\//i.test(text)) return undefined;
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The query carries the response (response_mode=query); a fragment only when the IdP chose it. */
function responseParameters(url: URL): URLSearchParams | undefined {
  const carries = (parameters: URLSearchParams) => parameters.has('code') || parameters.has('error');
  if (carries(url.searchParams)) return url.searchParams;
  const fragment = new URLSearchParams(url.hash.replace(/^#/, ''));
  return carries(fragment) ? fragment : undefined;
}
