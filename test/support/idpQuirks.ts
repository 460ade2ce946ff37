// The test IdP dressed up as the identity providers people use: the real oidc-provider underneath,
// and in front of it (through startTestIdp's `intercept` hook) a layer that reproduces each
// provider's documented quirks — GitHub's paths, form-encoded answers, errors with HTTP 200, comma
// scopes and tokens without expiry or refresh token; Google's `verification_url` and client secret;
// Entra's tenant path, `authorization_declined` and missing revocation; Auth0's `audience` and
// trailing-slash issuer; the path prefixes of Keycloak and Okta; GitLab's device endpoint outside
// discovery. Requests that need their body or answer changed are re-sent to the same server
// (marked, so the layer lets them through) and the answer is rewritten on the way back; the
// provider's own counters and fault injection therefore still see every request exactly once.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startTestIdp, type TestIdp, type TestIdpOptions } from './idp.js';

export type QuirkMode = 'github' | 'gitlab' | 'google' | 'entra' | 'okta' | 'auth0' | 'keycloak';

export type QuirkRoute = 'authorization' | 'token' | 'device_authorization' | 'revocation' | 'discovery' | 'account' | 'code_verification';

/** A request as the client sent it, before the quirk layer changed anything, and how it was answered. */
export interface SeenRequest {
  route: QuirkRoute;
  method: string;
  /** The path the client used (GitHub's /login/oauth/access_token, not the provider's /token). */
  path: string;
  /** Query (GET) or form (POST) parameters. */
  params: Record<string, string>;
  accept: string | undefined;
  /** Set when the layer refused the request itself, with why. */
  rejected?: string;
  status?: number;
  answeredAs?: 'json' | 'form';
  /** The OAuth error code in the answer, as sent. */
  error?: string;
}

export interface QuirkyIdpOptions extends TestIdpOptions {
  /** GitHub, Google: the client secret the token endpoint insists on (GitHub: for the code grant only). */
  clientSecret?: string;
  /** GitHub: form-encoded answers even when JSON was asked for (a proxy that drops Accept; an old GHES). */
  alwaysFormEncoded?: boolean;
  /** GitHub: the expires_in announced for device codes, whatever their real lifetime (deviceCodeTtl). */
  announcedDeviceExpiresIn?: number;
  /** Entra: the tenant id in the issuer path. */
  tenant?: string;
  /** Keycloak: the realm in the issuer path. */
  realm?: string;
}

export interface QuirkyIdp extends TestIdp {
  readonly mode: QuirkMode;
  /** The options it was started with; live, so a test can switch alwaysFormEncoded or the secret. */
  readonly quirkOptions: QuirkyIdpOptions;
  readonly seen: readonly SeenRequest[];
  /** The seen requests of one route. */
  seenAt(route: QuirkRoute): SeenRequest[];
  /**
   * Revokes a token at the provider underneath, past the quirk layer: what a user does by removing
   * the app's authorization in the provider's settings (GitHub, Entra have no revocation endpoint).
   */
  revokeAtProvider(token: string): Promise<void>;
}

/** GitHub's numeric user id for the demo account. */
export const GITHUB_USER_ID = 583231;
export const ENTRA_TEST_TENANT = '5e3ce6c0-2b1f-4285-8d4b-75ee78787346';
const tenYears = 10 * 365 * 24 * 3600;
/** Scopes the underlying provider knows; a quirky provider's own scopes are swapped for these. */
const providerScopes = new Set(['openid', 'profile', 'email', 'offline_access']);

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** What a mode does; each hook may be absent (nothing changes there). */
interface ModeRules {
  issuerPath?: string;
  /** Client paths that stand for a provider route (GitHub's and GitLab's own paths). */
  aliases?: Record<string, QuirkRoute>;
  /** Routes the layer takes over; all others go straight to the provider. */
  routes: ReadonlySet<QuirkRoute>;
  /** Browser authorization request: change the parameters, or refuse with an OAuth error. */
  authorize?(params: URLSearchParams): { error: string; description: string } | void;
  /** POST body: change it, or answer in the provider's stead. */
  request?(route: QuirkRoute, form: URLSearchParams, seen: SeenRequest): Answer | void;
  /** The provider's JSON answer -> the quirky provider's. */
  answer?(route: QuirkRoute, answer: Answer, request: URLSearchParams): Answer;
  /** Whether to send this answer form-encoded. */
  formEncode?(accept: string | undefined): boolean;
}

export async function startQuirkyIdp(mode: QuirkMode, options: QuirkyIdpOptions = {}): Promise<QuirkyIdp> {
  const seen: SeenRequest[] = [];
  // The intercept runs only once requests arrive, by which time the IdP exists.
  let idp!: TestIdp;
  const rules = modeRules(mode, options, () => idp);
  const intercept = (req: IncomingMessage, res: ServerResponse) => handle(req, res, idp, rules, seen, options.intercept);
  idp = await startTestIdp({
    ...options,
    issuerPath: options.issuerPath ?? rules.issuerPath,
    // GitHub's OAuth app tokens never expire.
    accessTokenTtl: options.accessTokenTtl ?? (mode === 'github' ? tenYears : undefined),
    intercept,
  });
  return Object.assign(idp, {
    mode,
    quirkOptions: options,
    seen,
    seenAt: (route: QuirkRoute) => seen.filter((request) => request.route === route),
    async revokeAtProvider(token: string) {
      const response = await fetch(new URL(idp.provider.pathFor('revocation'), idp.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', [innerMark]: '1' },
        body: new URLSearchParams({ token, client_id: idp.clientId }).toString(),
      });
      if (!response.ok) throw new Error(`revocation at the provider failed: ${response.status} ${await response.text()}`);
    },
  });
}

function modeRules(mode: QuirkMode, options: QuirkyIdpOptions, idp: () => TestIdp): ModeRules {
  const secretCheck = (form: URLSearchParams, seen: SeenRequest, required: boolean, refuse: () => Answer): Answer | void => {
    const secret = form.get('client_secret');
    // The provider's client is public: the secret is checked here and never reaches it.
    form.delete('client_secret');
    if (required && secret !== options.clientSecret) {
      seen.rejected = secret ? 'wrong client secret' : 'no client secret';
      return refuse();
    }
  };
  switch (mode) {
    case 'github': {
      // GitHub echoes the scopes it granted; the provider underneath only knows OIDC ones.
      let askedScopes = '';
      const swapScopes = (params: URLSearchParams) => {
        askedScopes = params.get('scope') ?? '';
        params.set('scope', 'openid profile email');
      };
      return {
        aliases: {
          '/login/oauth/authorize': 'authorization',
          '/login/oauth/access_token': 'token',
          '/login/device/code': 'device_authorization',
          '/login/device': 'code_verification',
          '/api/v3/user': 'account',
        },
        routes: new Set(['authorization', 'token', 'device_authorization', 'discovery', 'account', 'revocation']),
        authorize: swapScopes,
        request(route, form, seen) {
          if (route === 'revocation') return { status: 404, body: { message: 'Not Found' } };
          if (route === 'device_authorization') return swapScopes(form);
          if (route !== 'token') return;
          // The web flow's code exchange needs the secret even with PKCE; the device flow none.
          return secretCheck(form, seen, form.get('grant_type') === 'authorization_code', () => ({
            status: 200,
            body: { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.' },
          }));
        },
        answer(route, answer, request) {
          const body = { ...answer.body };
          if (route === 'discovery') return { status: 404, body: { message: 'Not Found' } };
          if (route === 'device_authorization' && answer.status === 200) {
            delete body.verification_uri_complete;
            body.verification_uri = new URL('/login/device', idp().issuer).href;
            if (options.announcedDeviceExpiresIn) body.expires_in = options.announcedDeviceExpiresIn;
            return { status: 200, body };
          }
          if (route !== 'token') return answer;
          if (typeof body.error === 'string') {
            const grant = request.get('grant_type');
            const renamed: Record<string, string> = {
              expired_token: 'token_expired',
              invalid_grant: grant === 'authorization_code' ? 'bad_verification_code' : grant === 'refresh_token' ? 'bad_refresh_token' : 'incorrect_device_code',
            };
            body.error = renamed[body.error] ?? body.error;
            // slow_down tells the new interval.
            if (body.error === 'slow_down') body.interval = (idp().settings.deviceInterval ?? 5) + 5;
            return { status: 200, body };
          }
          if (answer.status !== 200) return answer;
          delete body.id_token;
          delete body.refresh_token;
          delete body.expires_in;
          body.token_type = 'bearer';
          body.scope = askedScopes.split(' ').filter(Boolean).join(',');
          return { status: 200, body };
        },
        formEncode: (accept) => !!options.alwaysFormEncoded || !accept?.includes('application/json'),
      };
    }
    case 'google':
      return {
        routes: new Set(['authorization', 'token', 'device_authorization', 'revocation']),
        authorize(params) {
          if (params.get('scope')?.split(' ').includes('offline_access')) return { error: 'invalid_scope', description: 'Some requested scopes were invalid. {invalid=[offline_access]}' };
          // Google gives native and device clients a refresh token without being asked.
          params.set('scope', `${params.get('scope') ?? ''} offline_access`.trim());
        },
        request(route, form, seen) {
          if (route === 'device_authorization') {
            const scopes = form.get('scope')?.split(' ') ?? [];
            if (scopes.includes('offline_access')) {
              seen.rejected = 'offline_access';
              return { status: 400, body: { error: 'invalid_scope', error_description: 'Some requested scopes were invalid. {invalid=[offline_access]}' } };
            }
            form.set('scope', [...scopes, 'offline_access'].join(' '));
            return;
          }
          return secretCheck(form, seen, route === 'token', () => ({ status: 400, body: { error: 'invalid_request', error_description: 'client_secret is missing.' } }));
        },
        answer(route, answer) {
          if (route !== 'device_authorization' || answer.status !== 200) return answer;
          const { verification_uri, verification_uri_complete: _complete, ...rest } = answer.body;
          return { status: 200, body: { ...rest, verification_url: verification_uri } };
        },
      };
    case 'entra': {
      const stripResourceScopes = (params: URLSearchParams) => {
        params.set('scope', (params.get('scope') ?? '').split(' ').filter((scope) => providerScopes.has(scope)).join(' '));
      };
      return {
        issuerPath: `/${options.tenant ?? ENTRA_TEST_TENANT}/v2.0`,
        routes: new Set(['authorization', 'token', 'device_authorization', 'discovery', 'revocation']),
        // `api://…/.default` picks the API; the provider underneath knows none, so it is taken out after being seen.
        authorize: stripResourceScopes,
        request(route, form) {
          if (route === 'revocation') return { status: 404, body: { error: 'not_found' } };
          if (route === 'device_authorization') stripResourceScopes(form);
        },
        answer(route, answer, request) {
          const body = { ...answer.body };
          if (route === 'discovery') {
            delete body.revocation_endpoint;
            return { status: answer.status, body };
          }
          if (route === 'device_authorization' && answer.status === 200) {
            delete body.verification_uri_complete;
            body.message = `To sign in, use a web browser to open the page ${String(body.verification_uri)} and enter the code ${String(body.user_code)} to authenticate.`;
            return { status: 200, body };
          }
          if (route === 'token' && typeof body.error === 'string') {
            if (body.error === 'access_denied') body.error = 'authorization_declined';
            if (body.error === 'invalid_grant' && request.get('device_code')) body.error = 'bad_verification_code';
            return { status: answer.status, body };
          }
          return answer;
        },
      };
    }
    case 'auth0': {
      const missingAudience = { error: 'invalid_request', description: 'audience is required by the test IdP in Auth0 mode' };
      return {
        issuerPath: '/',
        routes: new Set(['authorization', 'device_authorization']),
        authorize: (params) => (params.get('audience') ? undefined : missingAudience),
        request(route, form, seen) {
          if (route !== 'device_authorization' || form.get('audience')) return;
          seen.rejected = 'no audience';
          return { status: 400, body: { error: missingAudience.error, error_description: missingAudience.description } };
        },
      };
    }
    case 'gitlab':
      return {
        aliases: { '/oauth/authorize_device': 'device_authorization' },
        routes: new Set(['authorization', 'token', 'device_authorization', 'discovery']),
        // GitLab issues refresh tokens without offline_access.
        authorize: (params) => void params.set('scope', `${params.get('scope') ?? ''} offline_access`.trim()),
        request(route, form) {
          if (route === 'device_authorization') form.set('scope', `${form.get('scope') ?? ''} offline_access`.trim());
        },
        answer(route, answer) {
          const body = { ...answer.body };
          if (route === 'discovery') {
            delete body.device_authorization_endpoint;
            return { status: answer.status, body };
          }
          if (route === 'token' && answer.status === 200) return { status: 200, body: { ...body, created_at: Math.floor(Date.now() / 1000) } };
          return answer;
        },
      };
    case 'okta':
      return { issuerPath: '/oauth2/default', routes: new Set() };
    case 'keycloak':
      return { issuerPath: `/realms/${options.realm ?? 'dev'}`, routes: new Set() };
  }
}

const innerMark = 'x-quirk-layer-inner';

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  idp: TestIdp,
  rules: ModeRules,
  seenList: SeenRequest[],
  next: QuirkyIdpOptions['intercept'],
): Promise<boolean> {
  if (next && await next(req, res)) return true;
  // Re-sent requests and the IdP helpers' own calls (introspect, userinfo) go straight through.
  if (req.headers[innerMark] || req.headers['x-test-idp-internal']) return false;
  const url = new URL(req.url ?? '/', idp.issuer);
  const route = rules.aliases?.[url.pathname] ?? routeOf(url.pathname, idp);
  if (!route || !rules.routes.has(route)) {
    // An alias to a page the provider serves as it is (GitHub's /login/device).
    if (route && rules.aliases?.[url.pathname]) req.url = `${providerPath(route, idp)}${url.search}`;
    return false;
  }
  const method = req.method ?? 'GET';
  const seen: SeenRequest = { route, method, path: url.pathname, params: {}, accept: header(req, 'accept') };
  seenList.push(seen);

  if (route === 'authorization') {
    seen.params = Object.fromEntries(url.searchParams);
    const refusal = rules.authorize?.(url.searchParams);
    if (refusal) {
      // Like a provider that refuses the request: back to the client with the error (RFC 6749 4.1.2.1).
      seen.rejected = refusal.description;
      const back = new URL(url.searchParams.get('redirect_uri') ?? idp.issuer);
      back.searchParams.set('error', refusal.error);
      back.searchParams.set('error_description', refusal.description);
      const state = url.searchParams.get('state');
      if (state) back.searchParams.set('state', state);
      back.searchParams.set('iss', idp.issuer);
      res.writeHead(303, { location: back.href });
      res.end();
      return true;
    }
    req.url = `${providerPath(route, idp)}?${url.searchParams}`;
    return false;
  }

  const form = new URLSearchParams(method === 'POST' ? (await readBody(req)).toString() : '');
  seen.params = method === 'POST' ? Object.fromEntries(form) : Object.fromEntries(url.searchParams);
  let answer = rules.request?.(route, form, seen) ?? undefined;
  if (!answer) {
    answer = route === 'account'
      ? githubUser(await resend(req, `${idp.provider.pathFor('userinfo')}`, undefined, idp))
      : await resend(req, `${providerPath(route, idp)}${url.search}`, method === 'POST' ? form.toString() : undefined, idp);
    answer = rules.answer?.(route, answer, form) ?? answer;
  }
  const asForm = route !== 'discovery' && route !== 'account' && !!rules.formEncode?.(seen.accept);
  seen.status = answer.status;
  seen.answeredAs = asForm ? 'form' : 'json';
  if (typeof answer.body.error === 'string') seen.error = answer.body.error;
  send(res, answer, asForm);
  return true;
}

function routeOf(pathname: string, idp: TestIdp): QuirkRoute | undefined {
  const routes: QuirkRoute[] = ['authorization', 'token', 'device_authorization', 'revocation', 'discovery', 'code_verification'];
  return routes.find((route) => providerPath(route, idp) === pathname);
}

function providerPath(route: QuirkRoute, idp: TestIdp): string {
  if (route === 'discovery') return `${new URL(idp.issuer).pathname.replace(/\/$/, '')}/.well-known/openid-configuration`;
  if (route === 'account') return idp.provider.pathFor('userinfo');
  return idp.provider.pathFor(route);
}

/** The request once more, to the provider behind this layer; its answer as JSON. */
async function resend(req: IncomingMessage, path: string, body: string | undefined, idp: TestIdp): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && !['host', 'content-length', 'connection', 'transfer-encoding', 'accept'].includes(name)) headers[name] = value;
  }
  headers[innerMark] = '1';
  headers.accept = 'application/json';
  const response = await fetch(new URL(path, idp.issuer), { method: req.method, headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  const challenge = response.headers.get('www-authenticate');
  return { status: response.status, body: parsed, ...(challenge ? { headers: { 'www-authenticate': challenge } } : {}) };
}

/** GET /user of GitHub's REST API, from the provider's userinfo. */
function githubUser(userinfo: Answer): Answer {
  if (userinfo.status === 401) return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } };
  if (userinfo.status !== 200) return userinfo;
  const claims = userinfo.body;
  return {
    status: 200,
    body: { login: claims.preferred_username, id: GITHUB_USER_ID, node_id: 'MDQ6VXNlcjU4MzIzMQ==', type: 'User', name: claims.name, email: claims.email },
  };
}

function send(res: ServerResponse, answer: Answer, asForm: boolean): void {
  const text = asForm
    ? new URLSearchParams(Object.entries(answer.body).map(([name, value]) => [name, String(value)])).toString()
    : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    ...answer.headers,
    'content-type': asForm ? 'application/x-www-form-urlencoded; charset=utf-8' : 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(text);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
