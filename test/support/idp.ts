// The project's test identity provider: a real, certified OpenID Provider (oidc-provider) with one
// account and one public native client, plus knobs that real providers misbehave with (faults,
// slow_down, intervals, short TTLs). Integration tests use it in-process; the e2e tier and the
// sandbox run it through idp-cli.ts.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Browser, parseForm, type PageResponse } from './browser.js';
import { recordSecret, type LedgerSecret, type SecretKind } from './secretLedger.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * A second public client whose only redirect URI is not the loopback callback, so the IdP refuses
 * every loopback sign-in of it on its own error page, as a provider that matches redirect URIs
 * exactly (port included) does for an address nobody registered.
 */
export const REDIRECT_REFUSING_CLIENT_ID = 'oauth-anywhere-redirect-refused';

export const DEMO_ACCOUNT = {
  sub: 'demo-user',
  preferred_username: 'demo',
  email: 'demo@example.test',
  email_verified: true,
  name: 'Demo User',
} as const;

/** Endpoints whose requests are counted and can be made to fail. */
export type IdpEndpoint =
  | 'discovery'
  | 'jwks'
  | 'device_authorization'
  | 'token' // token requests other than refresh_token grants
  | 'refresh' // token requests with grant_type=refresh_token
  | 'revocation'
  | 'userinfo'
  | 'introspection';

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string; contentType?: string }
  /** Holds the request this long, then lets it through; a huge ms never answers. */
  | { kind: 'delay'; ms: number }
  | { kind: 'malformed_json' }
  /** Destroys the socket without an answer. */
  | { kind: 'reset' }
  | { kind: 'oversized'; bytes: number }
  /** The real answer, labelled text/html. */
  | { kind: 'wrong_content_type' }
  /** The real discovery document with another issuer in it. */
  | { kind: 'issuer_mismatch' }
  /**
   * The IdP acts on the request at once (issuing tokens, say), but its answer leaves only after `ms`:
   * a client that gave up before then never learns what happened.
   */
  | { kind: 'late_answer'; ms: number }
  /** The real JSON answer with these fields set (null removes one), and another status if given. */
  | { kind: 'edit_answer'; set: Record<string, unknown>; status?: number };

export interface RequestRecord {
  /** Token requests are recorded as 'token' whatever their grant; see grantType. */
  endpoint: Exclude<IdpEndpoint, 'refresh'> | 'authorization';
  /** Date.now() when the request arrived. */
  at: number;
  grantType?: string | undefined;
  /** Set when the answer was injected ('slow_down' or a Fault kind) rather than the provider's. */
  injected?: Fault['kind'] | 'slow_down';
  /** The HTTP status sent, once the answer is finished. */
  status?: number;
  /** A token answer's `scope` (which session a refresh was for) and `error` (invalid_grant: a replayed refresh token). */
  scope?: string;
  error?: string;
}

export interface IdpSettings {
  /** Seconds. */
  accessTokenTtl: number;
  refreshTokenTtl: number;
  deviceCodeTtl: number;
  idTokenTtl: number;
  /** Seconds put into device authorization responses (fractions allowed); null sends none. */
  deviceInterval: number | null;
  /** Scopes the user declines at the consent step (a per-scope consent screen): asked for, not granted. */
  declinedScopes: string[];
}

export type TestIdpOptions = { [K in keyof IdpSettings]?: IdpSettings[K] | undefined } & {
  host?: string | undefined;
  port?: number | undefined;
  clientId?: string | undefined;
  /** oidc-provider's clockTolerance in seconds. 0 by default here so that expiry is exact. */
  clockTolerance?: number | undefined;
  /**
   * A path the issuer ends with, where the provider is mounted: "/realms/dev" like Keycloak,
   * "/oauth2/default" like Okta, "/" for an issuer with a trailing slash like Auth0's.
   */
  issuerPath?: string | undefined;
  /**
   * Keep expired device codes (they still answer expired_token) instead of forgetting them the moment
   * they expire, when an expired code answers invalid_grant: which of the two a poll gets then
   * depends on timing.
   */
  retainExpiredDeviceCodes?: boolean | undefined;
  /** Answers requests before the IdP does; returns true when it handled one (idp-cli's control API). */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
};

export type Decision = 'approve' | 'deny';

export interface AuthorizeResult {
  /** Where the IdP finally redirected the browser (the client's loopback redirect URI). */
  callbackUrl: string;
  /** The loopback server's answer, unless deliver was false. */
  status?: number;
  body?: string;
}

export interface DeviceApprovalResult {
  /** The IdP's last page: the success page, or the code page saying the request was denied. */
  page: PageResponse;
}

export interface TestIdp {
  readonly issuer: string;
  readonly clientId: string;
  readonly host: string;
  readonly port: number;
  readonly provider: OidcProvider;
  /** Live: changes apply to the next token or device authorization issued. */
  readonly settings: IdpSettings;
  /** The one account's claims, DEMO_ACCOUNT at first; live: changes apply to the next token issued. */
  readonly account: Record<string, unknown>;
  readonly requests: readonly RequestRecord[];
  /**
   * Every secret this IdP issued or received from a client (tokens, codes, code verifiers, device
   * codes), in order; also appended to the OAUTH_ANYWHERE_SECRET_LEDGER file when that is set, for
   * the secret-leak scan. Not cleared by resetCounters.
   */
  readonly issued: readonly LedgerSecret[];
  /** Counts recorded requests; 'refresh' counts refresh_token grants, grantType narrows 'token'. */
  count(endpoint: IdpEndpoint | 'authorization', grantType?: string): number;
  resetCounters(): void;
  authorize(url: string, options?: { decision?: Decision | undefined; deliver?: boolean | undefined }): Promise<AuthorizeResult>;
  /** Takes a user code or a verification_uri_complete. 'abort' uses the device confirmation page's Abort. */
  approveDevice(userCodeOrUri: string, options?: { decision?: Decision | 'abort' | undefined }): Promise<DeviceApprovalResult>;
  introspect(token: string): Promise<Record<string, unknown> & { active: boolean }>;
  userinfo(accessToken: string): Promise<{ status: number; body: Record<string, unknown> }>;
  injectSlowDown(n: number): void;
  injectFault(endpoint: IdpEndpoint, fault: Fault, times?: number): void;
  clearFaults(): void;
  close(): Promise<void>;
}

// oidc-provider ships no type declarations and @types/oidc-provider is not a dependency, so the
// module is loaded through a non-literal specifier and described by the slice of it used here.
interface Interaction {
  uid: string;
  params: Record<string, unknown>;
  prompt: { name: string; details: Record<string, unknown> };
  grantId?: string;
}

interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}

export interface OidcProvider {
  readonly issuer: string;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  pathFor(route: string): string;
  // Each event has its own payload; the listeners below say what they expect.
  on(event: string, listener: (...args: never[]) => void): unknown;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  Grant: {
    new (init: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  };
  Client: { find(id: string): Promise<{ clientId: string; clientName?: string } | undefined> };
}

type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;

// Under tsx, a CommonJS module imported from ESM runs from a data: URL, where import() cannot
// resolve a package name; resolving it through require (present in every CommonJS case) avoids that.
const providerModule: string = typeof require === 'function'
  ? pathToFileURL(require.resolve('oidc-provider')).href
  : 'oidc-provider';
let providerClass: Promise<ProviderClass> | undefined;
let signingKey: Promise<JsonWebKey> | undefined;

// One RSA key per process: generating it costs tens of milliseconds, and RS256 is the algorithm
// every client accepts without configuration.
function getSigningKey(): Promise<JsonWebKey> {
  signingKey ??= promisify(generateKeyPair)('rsa', { modulusLength: 2048 }).then(({ privateKey }) => ({
    ...privateKey.export({ format: 'jwk' }),
    kid: 'test-idp',
    use: 'sig',
    alg: 'RS256',
  }));
  return signingKey;
}

export async function startTestIdp(options: TestIdpOptions = {}): Promise<TestIdp> {
  providerClass ??= import(providerModule).then((m: { default: ProviderClass }) => m.default);
  const [Provider, jwk] = await Promise.all([providerClass, getSigningKey()]);

  const host = options.host ?? '127.0.0.1';
  const clientId = options.clientId ?? 'oauth-anywhere-test';
  const settings: IdpSettings = {
    accessTokenTtl: options.accessTokenTtl ?? 3600,
    refreshTokenTtl: options.refreshTokenTtl ?? 14 * 24 * 3600,
    deviceCodeTtl: options.deviceCodeTtl ?? 600,
    idTokenTtl: options.idTokenTtl ?? 3600,
    deviceInterval: options.deviceInterval === undefined ? 5 : options.deviceInterval,
    declinedScopes: options.declinedScopes ?? [],
  };
  const account: Record<string, unknown> = { ...DEMO_ACCOUNT };
  const resourceServer = { id: 'resource-server', secret: randomBytes(24).toString('hex') };
  // The helpers' own calls (introspect, userinfo) carry this so they are neither counted nor faulted.
  const internalMark = randomBytes(12).toString('hex');

  // Listen first: the issuer has to name the port the OS picked.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}${options.issuerPath ?? ''}`;
  // The provider's routes are relative to its mount point, like any mounted Koa app.
  const mount = new URL(issuer).pathname.replace(/\/$/, '');

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(options.retainExpiredDeviceCodes ?? false),
    jwks: { keys: [jwk] },
    clients: [
      {
        client_id: clientId,
        client_name: 'OAuth Anywhere (test)',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/callback', 'http://localhost/callback'],
        grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT],
        response_types: ['code'],
      },
      {
        client_id: REDIRECT_REFUSING_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/registered-elsewhere'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      {
        client_id: resourceServer.id,
        client_secret: resourceServer.secret,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    clientBasedCORS: () => true,
    clockTolerance: options.clockTolerance ?? 0,
    responseTypes: ['code'],
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      acr: null,
      auth_time: null,
      sid: null,
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
    },
    // By default scope-derived claims go only to userinfo when an access token is issued; clients
    // (and VS Code's account label) read them from the ID token.
    conformIdTokenClaims: false,
    findAccount: (_ctx: unknown, sub: string) => sub === DEMO_ACCOUNT.sub
      ? { accountId: sub, claims: () => ({ ...account, sub }) }
      : undefined,
    ttl: {
      AccessToken: () => settings.accessTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: () => settings.deviceCodeTtl,
      IdToken: () => settings.idTokenTtl,
      RefreshToken: () => settings.refreshTokenTtl,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      // A grant outliving its refresh token keeps refresh failures about the token, not the grant.
      Grant: () => settings.refreshTokenTtl + 3600,
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: { enabled: true, userCodeInputSource, userCodeConfirmSource, successSource },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) =>
          client.clientId === token.clientId,
      },
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) =>
          client.clientId === resourceServer.id || client.clientId === token.clientId,
      },
      userinfo: { enabled: true },
      // On by default in oidc-provider 9; a pushed request would skip the offline_access fix-up
      // below (see askConsentForOfflineAccess), so the IdP does not advertise it.
      pushedAuthorizationRequests: { enabled: false },
    },
    renderError,
  });

  provider.on('device_authorization.success', (_ctx: unknown, body: Record<string, unknown>) => {
    if (settings.deviceInterval !== null) body.interval = settings.deviceInterval;
  });
  // Koa prints every error that reaches it unless someone listens, dropped connections included;
  // only the unexpected ones are worth a line.
  provider.on('error', (err: { expose?: boolean; code?: string }) => {
    if (!err.expose && err.code !== 'ECONNRESET' && err.code !== 'EPIPE') console.error('test IdP error:', err);
  });
  provider.on('server_error', (_ctx: unknown, err: unknown) => console.error('test IdP server_error:', err));

  const paths = new Map<string, RequestRecord['endpoint']>([
    [`${mount}/.well-known/openid-configuration`, 'discovery'],
    [`${mount}/.well-known/oauth-authorization-server`, 'discovery'],
    [provider.pathFor('jwks'), 'jwks'],
    [provider.pathFor('device_authorization'), 'device_authorization'],
    [provider.pathFor('token'), 'token'],
    [provider.pathFor('revocation'), 'revocation'],
    [provider.pathFor('userinfo'), 'userinfo'],
    [provider.pathFor('introspection'), 'introspection'],
    [provider.pathFor('authorization'), 'authorization'],
  ]);

  const requests: RequestRecord[] = [];
  const issued: LedgerSecret[] = [];
  const known = new Set<string>();
  function remember(kind: SecretKind, value: unknown): void {
    if (typeof value !== 'string' || !value || known.has(value)) return;
    known.add(value);
    issued.push({ kind, value });
    recordSecret(kind, value);
  }
  const faults = new Map<IdpEndpoint, { fault: Fault; remaining: number }[]>();
  let slowDowns = 0;
  const closing = new AbortController();
  const providerCallback = provider.callback();
  // oidc-provider finds its mount path as the part of originalUrl that url lacks.
  const passToProvider = (req: IncomingMessage, res: ServerResponse) => {
    if (mount && req.url && (req.url === mount || req.url.startsWith(`${mount}/`) || req.url.startsWith(`${mount}?`))) {
      Object.assign(req, { originalUrl: req.url });
      req.url = req.url.slice(mount.length) || '/';
      if (req.url.startsWith('?')) req.url = `/${req.url}`;
    }
    providerCallback(req, res);
  };

  function takeFault(endpoint: IdpEndpoint): Fault | undefined {
    const queue = faults.get(endpoint);
    const next = queue?.[0];
    if (!queue || !next) return undefined;
    if (--next.remaining <= 0) queue.shift();
    return next.fault;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (options.intercept && await options.intercept(req, res)) return;
    const { pathname } = new URL(req.url ?? '/', issuer);

    const interaction = /^\/interaction\/([\w-]+)(\/decide)?$/.exec(pathname);
    if (interaction) {
      if (req.method === 'GET' && !interaction[2]) return renderInteraction(provider, req, res);
      if (req.method === 'POST' && interaction[2]) return decideInteraction(provider, req, res, settings);
    }

    const endpoint = paths.get(pathname);
    if (!endpoint || req.method === 'OPTIONS' || req.headers['x-test-idp-internal'] === internalMark) {
      return passToProvider(req, res);
    }

    const record: RequestRecord = { endpoint, at: Date.now() };
    let forward = req;
    if (endpoint === 'authorization') askConsentForOfflineAccess(req);
    if (endpoint === 'token') {
      // The grant type decides which faults apply, so read the body here and hand the provider
      // an identical, unread copy.
      const body = await readBody(req);
      const form = new URLSearchParams(body.toString());
      record.grantType = form.get('grant_type') ?? undefined;
      remember('code', form.get('code'));
      remember('code_verifier', form.get('code_verifier'));
      remember('device_code', form.get('device_code'));
      remember('refresh_token', form.get('refresh_token'));
      forward = replay(req, body);
    }
    if (endpoint === 'token' || endpoint === 'device_authorization') {
      teeBody(res, (sent) => {
        // Faults send large or broken bodies; only a real answer carries secrets.
        if (sent.length > 256 * 1024) return;
        let answer: Record<string, unknown>;
        try {
          answer = JSON.parse(sent.toString('utf8')) as Record<string, unknown>;
        } catch {
          return;
        }
        if (typeof answer.scope === 'string') record.scope = answer.scope;
        if (typeof answer.error === 'string') record.error = answer.error;
        remember('access_token', answer.access_token);
        remember('refresh_token', answer.refresh_token);
        remember('id_token', answer.id_token);
        remember('device_code', answer.device_code);
      });
    }
    requests.push(record);
    res.once('finish', () => { record.status = res.statusCode; });

    if (record.grantType === DEVICE_CODE_GRANT && slowDowns > 0) {
      slowDowns--;
      record.injected = 'slow_down';
      return sendJson(res, 400, { error: 'slow_down', error_description: 'injected by the test IdP' });
    }

    const fault = endpoint === 'authorization'
      ? undefined
      : takeFault(record.grantType === 'refresh_token' ? 'refresh' : endpoint);
    if (!fault) return passToProvider(forward, res);
    record.injected = fault.kind;
    return applyFault(fault, forward, res, passToProvider, closing.signal);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    // The authorization response: a redirect to the client carrying the code (from whichever of the
    // provider's routes finishes the interaction).
    res.once('finish', () => {
      const location = res.getHeader('location');
      if (typeof location !== 'string') return;
      try {
        remember('code', new URL(location, issuer).searchParams.get('code'));
      } catch {
        // Not a URL: nothing to record.
      }
    });
    handle(req, res).catch((err: unknown) => {
      console.error('test IdP handler failed:', err);
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      else res.destroy();
    });
  });

  const internalFetch = (path: string, init: RequestInit = {}) => fetch(new URL(path, issuer), {
    ...init,
    headers: { ...init.headers as Record<string, string>, 'x-test-idp-internal': internalMark },
  });
  const leavesIdp = (url: URL) => url.origin !== new URL(issuer).origin;

  return {
    issuer,
    clientId,
    host,
    port,
    provider,
    settings,
    account,
    requests,
    issued,

    count(endpoint, grantType) {
      if (endpoint === 'refresh') return requests.filter((r) => r.grantType === 'refresh_token').length;
      return requests.filter((r) => r.endpoint === endpoint && (grantType === undefined || r.grantType === grantType)).length;
    },

    resetCounters() {
      requests.length = 0;
    },

    async authorize(url, { decision = 'approve', deliver = true } = {}) {
      const browser = new Browser();
      let { response, stoppedAt } = await browser.follow(url, { stopAt: leavesIdp });
      if (!stoppedAt) {
        if (!response.body.includes('id="decision"')) {
          throw new Error(`authorize: no interaction page, got ${response.status}: ${response.body.slice(0, 500)}`);
        }
        ({ response, stoppedAt } = await browser.submit(response, parseForm(response.body, 'decision'), { decision }, { stopAt: leavesIdp }));
      }
      if (!stoppedAt) throw new Error(`authorize: no redirect back to the client, got ${response.status}: ${response.body.slice(0, 500)}`);
      if (!deliver) return { callbackUrl: stoppedAt };
      const delivered = await browser.request(stoppedAt);
      return { callbackUrl: stoppedAt, status: delivered.status, body: delivered.body };
    },

    async approveDevice(userCodeOrUri, { decision = 'approve' } = {}) {
      const browser = new Browser();
      let page: PageResponse;
      if (/^https?:/.test(userCodeOrUri)) {
        // verification_uri_complete answers with a self-submitting form carrying the code.
        const start = (await browser.follow(userCodeOrUri)).response;
        page = (await browser.submit(start, parseForm(start.body))).response;
      } else {
        const start = (await browser.follow(new URL(provider.pathFor('code_verification'), issuer).href)).response;
        const form = parseForm(start.body, 'op.deviceInputForm');
        page = (await browser.submit(start, form, { user_code: userCodeOrUri })).response;
      }
      const confirm = parseForm(page.body, 'op.deviceConfirmForm');
      if (decision === 'abort') {
        page = (await browser.submit(page, confirm, { abort: 'yes' })).response;
      } else {
        page = (await browser.submit(page, confirm)).response;
        page = (await browser.submit(page, parseForm(page.body, 'decision'), { decision })).response;
      }
      const expected = decision === 'approve' ? 'id="device-success"' : 'data-error="AbortedError"';
      if (!page.body.includes(expected)) {
        throw new Error(`approveDevice: unexpected page ${page.status} at ${page.url}: ${page.body.slice(0, 500)}`);
      }
      return { page };
    },

    async introspect(token) {
      const response = await internalFetch(provider.pathFor('introspection'), {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${resourceServer.id}:${resourceServer.secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }).toString(),
      });
      if (!response.ok) throw new Error(`introspection failed: ${response.status} ${await response.text()}`);
      return await response.json() as Record<string, unknown> & { active: boolean };
    },

    async userinfo(accessToken) {
      const response = await internalFetch(provider.pathFor('userinfo'), {
        headers: { authorization: `Bearer ${accessToken}` },
      });
      const text = await response.text();
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { raw: text, www_authenticate: response.headers.get('www-authenticate') };
      }
      return { status: response.status, body };
    },

    injectSlowDown(n) {
      slowDowns = n;
    },

    injectFault(endpoint, fault, times = 1) {
      const queue = faults.get(endpoint) ?? [];
      queue.push({ fault, remaining: times });
      faults.set(endpoint, queue);
    },

    clearFaults() {
      faults.clear();
      slowDowns = 0;
    },

    async close() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function applyFault(
  fault: Fault,
  req: IncomingMessage,
  res: ServerResponse,
  pass: (req: IncomingMessage, res: ServerResponse) => void,
  closing: AbortSignal,
): Promise<void> {
  switch (fault.kind) {
    case 'status': {
      const contentType = fault.contentType ?? 'application/json';
      const body = fault.body ?? (contentType.includes('json')
        ? JSON.stringify({ error: fault.status >= 500 ? 'server_error' : 'invalid_request' })
        : `<!DOCTYPE html><html><body><h1>${fault.status} Error</h1><p>Injected by the test IdP.</p></body></html>`);
      res.writeHead(fault.status, { 'content-type': contentType, ...fault.headers });
      res.end(body);
      return;
    }
    case 'delay': {
      const aborted = new AbortController();
      const abort = () => aborted.abort();
      res.once('close', abort);
      closing.addEventListener('abort', abort, { once: true });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(fault.ms, 2 ** 31 - 1));
        aborted.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
      closing.removeEventListener('abort', abort);
      res.off('close', abort);
      if (!aborted.signal.aborted) pass(req, res);
      return;
    }
    case 'malformed_json':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"access_token": "truncated');
      return;
    case 'reset':
      req.socket.destroy();
      return;
    case 'oversized': {
      const prefix = '{"padding":"';
      const padding = Math.max(0, fault.bytes - prefix.length - 2);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${prefix}${'x'.repeat(padding)}"}`);
      return;
    }
    case 'wrong_content_type':
      rewriteBody(res, (body) => ({ body, contentType: 'text/html; charset=utf-8' }));
      pass(req, res);
      return;
    case 'issuer_mismatch':
      rewriteBody(res, (body) => {
        const metadata = JSON.parse(body.toString()) as Record<string, unknown>;
        return { body: JSON.stringify({ ...metadata, issuer: 'http://issuer-mismatch.example.test' }) };
      });
      pass(req, res);
      return;
    case 'late_answer': {
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      Object.assign(res, {
        end(...args: unknown[]) {
          const timer = setTimeout(() => {
            closing.removeEventListener('abort', cancel);
            if (!res.destroyed) end(...args);
          }, Math.min(fault.ms, 2 ** 31 - 1));
          const cancel = () => {
            clearTimeout(timer);
            res.destroy();
          };
          closing.addEventListener('abort', cancel, { once: true });
          return res;
        },
      });
      pass(req, res);
      return;
    }
    case 'edit_answer':
      rewriteBody(res, (body) => {
        const answer = JSON.parse(body.toString()) as Record<string, unknown>;
        for (const [field, value] of Object.entries(fault.set)) {
          if (value === null) delete answer[field];
          else answer[field] = value;
        }
        return { body: JSON.stringify(answer), contentType: 'application/json; charset=utf-8', status: fault.status };
      });
      pass(req, res);
      return;
  }
}

// oidc-provider drops offline_access from an authorization request unless it carries
// prompt=consent, and with it the refresh token. Clients of real IdPs rarely send that prompt, and
// this client is a native one that is always asked for consent anyway, so the IdP adds it itself.
function askConsentForOfflineAccess(req: IncomingMessage): void {
  const url = new URL(req.url ?? '/', 'http://idp.invalid');
  const scopes = url.searchParams.get('scope')?.split(' ') ?? [];
  const prompts = url.searchParams.get('prompt')?.split(' ').filter(Boolean) ?? [];
  if (!scopes.includes('offline_access') || prompts.includes('consent') || prompts.includes('none')) return;
  url.searchParams.set('prompt', [...prompts, 'consent'].join(' '));
  req.url = `${url.pathname}${url.search}`;
}

/** Hands a copy of the body to `onBody` as it is sent, unchanged. */
function teeBody(res: ServerResponse, onBody: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  const keep = (chunk: unknown) => {
    if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
    else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  Object.assign(res, {
    write(...args: unknown[]) {
      keep(args[0]);
      return write(...args);
    },
    end(...args: unknown[]) {
      keep(args[0]);
      onBody(Buffer.concat(chunks));
      return end(...args);
    },
  });
}

/** Lets the provider answer, then swaps the body (and content type) before it is sent. */
function rewriteBody(res: ServerResponse, transform: (body: Buffer) => { body: string | Buffer; contentType?: string; status?: number | undefined }): void {
  const chunks: Buffer[] = [];
  const end = res.end.bind(res) as (chunk?: string | Buffer) => ServerResponse;
  const toBuffer = (chunk: unknown) => typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
  Object.assign(res, {
    write(chunk: unknown) {
      chunks.push(toBuffer(chunk));
      return true;
    },
    end(chunk?: unknown) {
      if (chunk !== undefined && typeof chunk !== 'function') chunks.push(toBuffer(chunk));
      const out = transform(Buffer.concat(chunks));
      if (out.status !== undefined) res.statusCode = out.status;
      if (out.contentType) res.setHeader('content-type', out.contentType);
      res.setHeader('content-length', Buffer.byteLength(out.body));
      return end(out.body);
    },
  });
}

async function renderInteraction(provider: OidcProvider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let details: Interaction;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    return sendHtml(res, 400, page('Sign-in failed', `<p id="error">${escapeHtml(String(err))}</p>`));
  }
  const client = await provider.Client.find(String(details.params.client_id));
  const scopes = (typeof details.params.scope === 'string' ? details.params.scope : '').split(' ').filter(Boolean);
  sendHtml(res, 200, page('Sign in', `
<p><strong>${escapeHtml(client?.clientName ?? String(details.params.client_id))}</strong> wants to sign you in
as <strong>${DEMO_ACCOUNT.name}</strong> (${DEMO_ACCOUNT.email}) with these scopes:</p>
<ul id="scopes">${scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
<form id="decision" method="post" action="/interaction/${escapeHtml(details.uid)}/decide">
  <button id="approve" type="submit" name="decision" value="approve" autofocus>Approve</button>
  <button id="deny" type="submit" name="decision" value="deny">Deny</button>
</form>`));
}

async function decideInteraction(provider: OidcProvider, req: IncomingMessage, res: ServerResponse, settings: IdpSettings): Promise<void> {
  const decision = new URLSearchParams((await readBody(req)).toString()).get('decision');
  let details: Interaction;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    return sendHtml(res, 400, page('Sign-in failed', `<p id="error">${escapeHtml(String(err))}</p>`));
  }
  if (decision !== 'approve') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'The user denied the request.',
    }, { mergeWithLastSubmission: false });
  }

  // Grant everything that was asked for, so that neither a consent prompt nor a missing
  // offline_access stands between an approval and a refresh token.
  const clientId = String(details.params.client_id);
  const grant = (details.grantId && await provider.Grant.find(details.grantId))
    || new provider.Grant({ accountId: DEMO_ACCOUNT.sub, clientId });
  if (typeof details.params.scope === 'string') {
    const asked = details.params.scope.split(' ').filter(Boolean);
    grant.addOIDCScope(asked.filter((scope) => !settings.declinedScopes.includes(scope)).join(' '));
    const declined = asked.filter((scope) => settings.declinedScopes.includes(scope));
    // oidc-provider's Grant has rejectOIDCScope; its type definitions leave it out.
    if (declined.length) (grant as unknown as { rejectOIDCScope(scope: string): void }).rejectOIDCScope(declined.join(' '));
  }
  const { missingOIDCClaims, missingResourceScopes } = details.prompt.details;
  if (Array.isArray(missingOIDCClaims)) grant.addOIDCClaims(missingOIDCClaims as string[]);
  if (missingResourceScopes && typeof missingResourceScopes === 'object') {
    for (const [indicator, scopes] of Object.entries(missingResourceScopes as Record<string, string[]>)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: { accountId: DEMO_ACCOUNT.sub },
    consent: { grantId },
  }, { mergeWithLastSubmission: true });
}

// Own versions of the provider's device pages: stable ids for Playwright and approveDevice, and
// none of the default pages' "you SHOULD change this" notices.
interface PageContext { body: unknown; type: string }

function userCodeInputSource(ctx: PageContext, form: string, _out: unknown, err?: { name?: string; userCode?: string }): void {
  let message = '<p>Enter the code shown on your device.</p>';
  if (err?.name === 'AbortedError') {
    message = '<p id="error" data-error="AbortedError">The sign-in request was denied.</p>';
  } else if (err) {
    message = `<p id="error" data-error="${escapeHtml(err.name ?? 'Error')}">${err.userCode || err.name === 'NoCodeError'
      ? 'That code is not valid. Try again.'
      : 'Something went wrong. Try again.'}</p>`;
  }
  ctx.body = page('Device sign-in', `${message}${form}
<button id="continue" type="submit" form="op.deviceInputForm">Continue</button>`);
}

function userCodeConfirmSource(ctx: PageContext, form: string, client: { clientId: string; clientName?: string }, _info: unknown, userCode: string): void {
  ctx.body = page('Confirm device', `
<p><strong>${escapeHtml(client.clientName ?? client.clientId)}</strong> wants to sign in.
Check that your device shows this code: <code id="user-code">${escapeHtml(userCode)}</code></p>${form}
<button id="confirm" type="submit" form="op.deviceConfirmForm" autofocus>Continue</button>
<button id="abort" type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`);
}

function successSource(ctx: PageContext): void {
  ctx.body = page('Signed in', '<p id="device-success">You are signed in. You can close this page and return to your device.</p>');
}

function renderError(ctx: PageContext, out: { error?: string; error_description?: string }): void {
  ctx.type = 'html';
  ctx.body = page('Error', `<p id="error" data-error="${escapeHtml(out.error ?? '')}">${escapeHtml(out.error ?? 'error')}: ${escapeHtml(out.error_description ?? '')}</p>`);
}

function page(title: string, content: string): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${title} - Test IdP</title></head>
<body><h1>${title}</h1>${content}</body></html>`;
}

// A store of its own per provider: the built-in one prints a warning for every instance.
function memoryAdapter(retainExpiredDeviceCodes: boolean) {
  interface Stored { payload: Record<string, unknown>; expiresAt: number }
  const entries = new Map<string, Stored>();
  const index = new Map<string, string>(); // 'uid:…' / 'userCode:…' -> entry key
  const grants = new Map<string, Set<string>>();
  const read = (key: string | undefined) => {
    const entry = key === undefined ? undefined : entries.get(key);
    if (!entry || entry.expiresAt <= Date.now()) return undefined;
    return entry.payload;
  };
  return class Adapter {
    readonly model: string;
    constructor(model: string) { this.model = model; }
    key(id: string) { return `${this.model}:${id}`; }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      const key = this.key(id);
      // A retained device code outlives its expiry: the provider itself then answers expired_token.
      const retained = retainExpiredDeviceCodes && this.model === 'DeviceCode';
      entries.set(key, { payload, expiresAt: expiresIn && !retained ? Date.now() + expiresIn * 1000 : Infinity });
      if (typeof payload.uid === 'string') index.set(`uid:${payload.uid}`, key);
      if (typeof payload.userCode === 'string') index.set(`userCode:${payload.userCode}`, key);
      if (typeof payload.grantId === 'string') {
        const members = grants.get(payload.grantId) ?? new Set();
        grants.set(payload.grantId, members.add(key));
      }
    }
    async find(id: string) { return read(this.key(id)); }
    async findByUid(uid: string) { return read(index.get(`uid:${uid}`)); }
    async findByUserCode(userCode: string) { return read(index.get(`userCode:${userCode}`)); }
    async consume(id: string) {
      const payload = read(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) { entries.delete(this.key(id)); }
    async revokeByGrantId(grantId: string) {
      for (const key of grants.get(grantId) ?? []) entries.delete(key);
      grants.delete(grantId);
    }
  };
}

function replay(original: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(original.socket);
  copy.method = original.method;
  copy.url = original.url;
  copy.headers = original.headers;
  copy.rawHeaders = original.rawHeaders;
  copy.httpVersion = original.httpVersion;
  copy.httpVersionMajor = original.httpVersionMajor;
  copy.httpVersionMinor = original.httpVersionMinor;
  // An incomplete message destroys its socket when it is done with, taking the answer along.
  copy.complete = true;
  copy.push(body);
  copy.push(null);
  return copy;
}

async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
