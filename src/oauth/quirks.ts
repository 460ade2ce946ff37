import { untrustedText } from './untrustedText.js';

/**
 * The ways real identity providers bend OAuth 2.0, each behind one name. A preset (presets.ts) turns
 * on the quirks its provider needs. A few deviations are harmless and widespread, so every provider
 * gets them (`harmlessDeviations`): they change the shape of an answer, never what it proves. Each one
 * accepted is logged at debug level. Nothing is ever lenient about state, PKCE, nonce, iss, signatures,
 * HTTPS or the issuer match: those checks stay oauth4webapi's, on the answer as it came.
 *
 * Quirks about the *answers* (encoding, status codes, field and error names) are all applied in one
 * place, `applyResponseQuirks`, a fetch wrapper around the bounded fetch: everything after it
 * (oauth4webapi's checks, the error taxonomy) stays the standard code path. Quirks about *requests*
 * (extra parameters, scopes, client secret, account lookup, revocation) are read by client.ts and
 * loopback.ts where the request is built.
 */

export interface AccountEndpoint {
  /** GET with the access token as Bearer; answers a JSON object describing the account. */
  url: string;
  /** The field holding a stable id; numbers are accepted and turned into text. */
  subjectField: string;
  /** Fields tried in order for the name shown in the Accounts menu. */
  labelFields: readonly string[];
}

export interface Quirks {
  /**
   * Token and device answers may come as `application/x-www-form-urlencoded` and are decoded into the
   * JSON object RFC 6749 5.1 asks for (numeric fields become numbers).
   * GitHub: its token and device endpoints answer form-encoded unless the request says
   * `Accept: application/json`. oauth4webapi always says so, but a proxy in front of GitHub
   * Enterprise Server that drops the header, or an old GHES, still gets the form answer.
   */
  formEncodedAnswers?: boolean;
  /**
   * An answer with HTTP 200 whose body carries `error` (and no `access_token`) is an error answer,
   * and is given status 400 (RFC 6749 5.2) so that oauth4webapi raises it as an OAuth error.
   * GitHub: `authorization_pending`, `slow_down` and every other error come with 200.
   */
  errorsWithStatus200?: boolean;
  /** `scope` in token answers separated by commas instead of spaces (GitHub: "repo,read:user"). */
  commaSeparatedScope?: boolean;
  /**
   * The device authorization answer names the URL `verification_url`, the field's name in drafts
   * of RFC 8628. Google does.
   */
  verificationUrlAlias?: boolean;
  /** `expires_in`, `interval` or `refresh_token_expires_in` sent as a JSON string of digits ("1800"). */
  numbersAsStrings?: boolean;
  /**
   * Non-standard error codes mapped onto the RFC's, so the error taxonomy (denied, expired,
   * invalid_grant, misconfigured) needs no per-provider cases. GitHub: `token_expired`,
   * `bad_verification_code`, `incorrect_device_code`, `bad_refresh_token`, `device_flow_disabled`,
   * `incorrect_client_credentials`. Microsoft Entra ID: `authorization_declined`, `bad_verification_code`.
   */
  errorCodeAliases?: Readonly<Record<string, string>>;
  /** Extra parameters on the authorization request. Auth0: `audience` selects the API. */
  authorizationParameters?: Readonly<Record<string, string>>;
  /** Extra parameters on the device authorization request. Auth0: `audience` again. */
  deviceAuthorizationParameters?: Readonly<Record<string, string>>;
  /**
   * Scopes never sent, whoever asks for them. Google rejects `offline_access` (it hands desktop and
   * device clients a refresh token without it); GitLab does not know it either.
   */
  dropScopes?: readonly string[];
  /**
   * Plain OAuth 2.0, no OpenID Connect: no ID token ever comes back, so the browser sign-in sends
   * no `nonce` (oauth4webapi, rightly, demands an ID token to carry a nonce back). GitHub.
   */
  plainOAuth2?: boolean;
  /**
   * Where to read the account when the provider issues no ID token and has no userinfo endpoint.
   * GitHub: GET /user (`id` is the subject, `login` the name).
   */
  accountEndpoint?: AccountEndpoint;
  /**
   * The provider offers no RFC 7009 revocation that a public client can call, so sign-out is local
   * only, even if some endpoint were configured. GitHub (its REST DELETE needs the client secret and
   * basic auth), Microsoft Entra ID (no revocation endpoint).
   */
  noRevocation?: boolean;
}

export const noQuirks: Quirks = {};

/**
 * Accepted from every identity provider: Google's draft-era `verification_url`, numbers sent as
 * strings, and an error answer sent with HTTP 200 (read as the error it is). Each only changes how an
 * answer is spelled; refusing them would fail a sign-in that is otherwise sound.
 */
export const harmlessDeviations: Quirks = { verificationUrlAlias: true, numbersAsStrings: true, errorsWithStatus200: true };

/** The preset's quirks on top of the harmless deviations. */
export function withHarmlessDeviations(quirks: Quirks | undefined): Quirks {
  return { ...harmlessDeviations, ...quirks };
}

/** The scopes actually sent: what was asked for, minus the ones the provider refuses. */
export function scopesToSend(scopes: readonly string[], quirks: Quirks | undefined): string[] {
  const dropped = new Set(quirks?.dropScopes ?? []);
  return scopes.filter((scope) => !dropped.has(scope));
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

/** Answers that RFC 6749 / RFC 8628 define as numbers; a form-encoded answer carries them as text. */
const numericFields = new Set(['expires_in', 'interval', 'refresh_token_expires_in']);

/**
 * The one place where answers are rewritten. Only POST answers are touched: those are the token,
 * device authorization and revocation endpoints, whose bodies the quirks are about. Discovery, the
 * key set, userinfo and account lookups (GET) pass through unchanged. Headers other than the
 * content type and length are kept, so WWW-Authenticate challenges still reach oauth4webapi.
 * `noted` hears, in words, every deviation that was accepted (the client logs it at debug level).
 */
export function applyResponseQuirks(quirks: Quirks, fetch: Fetch, noted: (deviation: string) => void = () => undefined): Fetch {
  return async (url, init) => {
    const response = await fetch(url, init);
    if ((init.method ?? 'GET').toUpperCase() !== 'POST') return response;
    const text = await response.text();
    let status = response.status;
    const where = endpointName(url);
    const rebuilt = (body: string, contentType?: string) => {
      const headers = new Headers(response.headers);
      headers.delete('content-length');
      if (contentType) headers.set('content-type', contentType);
      const nullBody = [101, 204, 205, 304].includes(status);
      return new Response(nullBody ? null : body, { status, statusText: response.statusText, headers });
    };

    const decoded = decodeAnswer(text, response.headers.get('content-type'), quirks);
    if (!decoded) return rebuilt(text);
    const { object, form } = decoded;
    // An answer no quirk touched goes on exactly as it was sent.
    let changed = form;
    const accepted = (deviation: string) => {
      changed = true;
      noted(deviation);
    };
    if (form) noted(`a form-encoded answer from ${where}`);

    if (typeof object.error === 'string') {
      // The identity provider's text, on its way into a log line: one line, no control characters.
      const code = untrustedText(object.error, 64);
      const alias = quirks.errorCodeAliases?.[object.error];
      if (alias) {
        accepted(`the error code "${code}" from ${where}, read as "${alias}"`);
        object.error = alias;
      }
      if (quirks.errorsWithStatus200 && status === 200 && object.access_token === undefined) {
        accepted(`an error answer ("${alias ?? code}") with HTTP 200 from ${where}, read as HTTP 400`);
        status = 400;
      }
    }
    if (quirks.commaSeparatedScope && typeof object.scope === 'string' && object.scope.includes(',')) {
      accepted(`a comma-separated scope from ${where}`);
      object.scope = object.scope.split(/[,\s]+/).filter(Boolean).join(' ');
    }
    if (quirks.verificationUrlAlias && object.verification_uri === undefined && typeof object.verification_url === 'string') {
      accepted(`verification_url instead of verification_uri from ${where}`);
      object.verification_uri = object.verification_url;
    }
    if (quirks.numbersAsStrings && !form) {
      for (const field of numericFields) {
        const value = object[field];
        if (typeof value === 'string' && numeric.test(value)) {
          accepted(`${field} as the string "${value}" from ${where}`);
          object[field] = Number(value);
        }
      }
    }
    if (!changed) return rebuilt(text);
    return rebuilt(JSON.stringify(object), 'application/json; charset=utf-8');
  };
}

/** Origin and path of a request, for the log: never its query. */
function endpointName(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'the identity provider';
  }
}

const numeric = /^\d+(\.\d+)?$/;

/** The answer as an object, or undefined when it is neither a JSON object nor (if allowed) a form. */
function decodeAnswer(text: string, contentType: string | null, quirks: Quirks): { object: Record<string, unknown>; form: boolean } | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (quirks.formEncodedAnswers && type === 'application/x-www-form-urlencoded') {
    const object: Record<string, unknown> = {};
    for (const [name, value] of new URLSearchParams(text)) {
      object[name] = numericFields.has(name) && numeric.test(value) ? Number(value) : value;
    }
    return { object, form: true };
  }
  if (!text.trim()) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? { object: parsed as Record<string, unknown>, form: false } : undefined;
  } catch {
    // Not JSON: oauth4webapi reports that as it always does.
    return undefined;
  }
}
