import type { Flow } from './chooseFlow.js';
import { isAllowedEndpointUrl } from './loopbackAddress.js';
import type { Quirks } from './quirks.js';
import type { EndpointOverrides } from './types.js';

/**
 * The identity providers people actually use, as data: where they live, which settings that takes,
 * which flows they offer and which quirks (quirks.ts) they need. `custom` is plain discovery from
 * oauthAnywhere.issuer with no quirks. Facts are from each provider's public documentation; the few
 * that are inferred are marked so here and in docs/presets.md.
 */

export type PresetId = 'custom' | 'github' | 'gitlab' | 'google' | 'entra' | 'okta' | 'auth0' | 'keycloak';

/** Settings (below `oauthAnywhere.`) a preset may read. */
export type PresetSetting = 'domain' | 'tenant' | 'realm' | 'audience' | 'clientSecret' | 'authorizationServer';

export type PresetInput = { [K in PresetSetting]?: string | undefined };

export interface ResolvedPreset {
  issuer: string;
  /** Endpoints the provider does not put in discovery (or has no discovery for). */
  endpoints: EndpointOverrides;
  quirks: Quirks;
  /** Used when the user has not chosen scopes. */
  defaultScopes: string[];
  /** Always asked for, whatever the scopes setting says (Entra: the audience's `.default`). */
  requiredScopes: string[];
  /** The flows that work with these settings (GitHub without a client secret: device only). */
  flows: Flow[];
  clientSecret?: string;
  /**
   * For providers that compare redirect URIs exactly, port included: the loopback port used unless
   * oauthAnywhere.loopbackPort names one, so the URI to register is known in advance.
   */
  loopbackPort?: number;
}

export interface PresetProblem {
  setting: PresetSetting;
  message: string;
}

export type PresetResolution = { ok: true; value: ResolvedPreset } | { ok: false; problems: PresetProblem[] };

export interface Preset {
  id: PresetId;
  label: string;
  /** Settings it reads; any other of the preset settings is not used by it. */
  settings: Partial<Record<PresetSetting, 'required' | 'optional'>>;
  /** Every flow the provider offers, whatever the settings. */
  flows: readonly Flow[];
  resolve(input: PresetInput, problem: (setting: PresetSetting, message: string) => void): ResolvedPreset | undefined;
}

export const settingTitles: Record<PresetSetting, string> = {
  domain: 'Domain',
  tenant: 'Tenant',
  realm: 'Realm',
  audience: 'Audience',
  clientSecret: 'Client Secret',
  authorizationServer: 'Authorization Server',
};

/** `"OAuth Anywhere: Realm" (oauthAnywhere.realm)`: how messages name a setting. */
export function settingName(setting: PresetSetting): string {
  return `"OAuth Anywhere: ${settingTitles[setting]}" (oauthAnywhere.${setting})`;
}

const oidcScopes = ['openid', 'profile', 'email', 'offline_access'];
/**
 * The fixed loopback port of the presets whose provider matches redirect URIs exactly: register
 * `http://127.0.0.1:28130/callback` there. Outside the ports Linux, macOS and Windows hand out for
 * outgoing connections, and not one a common development server uses.
 */
export const exactRedirectPort = 28130;
const bothFlows: Flow[] = ['loopback', 'device'];
/** The consumers tenant of Microsoft accounts; its metadata names it by this id, not by "consumers". */
const entraConsumersTenant = '9188040d-6c67-4c5b-b112-36a304b66dad';
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const presets: readonly Preset[] = [
  {
    id: 'custom',
    label: 'Custom (discovery)',
    settings: {},
    flows: bothFlows,
    // Never asked: config.ts reads oauthAnywhere.issuer and oauthAnywhere.endpoints for it directly.
    resolve: () => ({ issuer: '', endpoints: {}, quirks: {}, defaultScopes: oidcScopes, requiredScopes: [], flows: bothFlows }),
  },
  {
    id: 'github',
    label: 'GitHub',
    settings: { domain: 'optional', clientSecret: 'optional' },
    flows: ['device', 'loopback'],
    resolve(input, problem) {
      const base = baseUrl(input.domain ?? 'github.com', 'domain', problem);
      if (!base) return undefined;
      const dotCom = /^(www\.)?github\.com$/i.test(base.host) && base.protocol === 'https:';
      const root = dotCom ? 'https://github.com' : base.href;
      const secret = input.clientSecret;
      return {
        // GitHub has no OpenID Connect: the issuer only names the sessions' home.
        issuer: root,
        endpoints: {
          // The web flow's token exchange needs the client secret even with PKCE; without one,
          // leaving the authorization endpoint out makes the flow choice pick the device flow.
          ...(secret ? { authorization_endpoint: `${root}/login/oauth/authorize` } : {}),
          token_endpoint: `${root}/login/oauth/access_token`,
          device_authorization_endpoint: `${root}/login/device/code`,
        },
        quirks: {
          formEncodedAnswers: true,
          errorsWithStatus200: true,
          commaSeparatedScope: true,
          errorCodeAliases: {
            token_expired: 'expired_token',
            bad_verification_code: 'invalid_grant',
            incorrect_device_code: 'invalid_grant',
            bad_refresh_token: 'invalid_grant',
            device_flow_disabled: 'unauthorized_client',
            incorrect_client_credentials: 'invalid_client',
          },
          plainOAuth2: true,
          accountEndpoint: {
            url: dotCom ? 'https://api.github.com/user' : `${root}/api/v3/user`,
            subjectField: 'id',
            labelFields: ['login', 'name'],
          },
          noRevocation: true,
        },
        // What VS Code's own GitHub sign-in asks for; no scope at all would do for the account.
        defaultScopes: ['read:user'],
        requiredScopes: [],
        flows: secret ? ['device', 'loopback'] : ['device'],
        ...(secret ? { clientSecret: secret } : {}),
      };
    },
  },
  {
    id: 'gitlab',
    label: 'GitLab',
    settings: { domain: 'optional', clientSecret: 'optional' },
    flows: bothFlows,
    resolve(input, problem) {
      const base = baseUrl(input.domain ?? 'gitlab.com', 'domain', problem);
      if (!base) return undefined;
      return {
        issuer: base.href,
        // GitLab 17.9+ has the device grant; its discovery document is not known to list it.
        endpoints: { device_authorization_endpoint: `${base.href}/oauth/authorize_device` },
        // GitLab hands out refresh tokens without offline_access, which is not one of its scopes (inferred).
        quirks: { dropScopes: ['offline_access'] },
        defaultScopes: ['openid', 'profile', 'email'],
        requiredScopes: [],
        flows: bothFlows,
        ...(input.clientSecret ? { clientSecret: input.clientSecret } : {}),
        // Reported to compare the redirect URI with its port (inferred).
        loopbackPort: exactRedirectPort,
      };
    },
  },
  {
    id: 'google',
    label: 'Google',
    settings: { clientSecret: 'required', domain: 'optional' },
    flows: bothFlows,
    resolve(input, problem) {
      const base = baseUrl(input.domain ?? 'accounts.google.com', 'domain', problem);
      if (!base || !input.clientSecret) return undefined;
      return {
        issuer: base.href,
        endpoints: {},
        quirks: { verificationUrlAlias: true, dropScopes: ['offline_access'] },
        defaultScopes: ['openid', 'profile', 'email'],
        requiredScopes: [],
        flows: bothFlows,
        clientSecret: input.clientSecret,
      };
    },
  },
  {
    id: 'entra',
    label: 'Microsoft Entra ID',
    settings: { tenant: 'required', domain: 'optional', audience: 'optional' },
    flows: bothFlows,
    resolve(input, problem) {
      const base = baseUrl(input.domain ?? 'login.microsoftonline.com', 'domain', problem);
      const tenant = entraTenant(input.tenant ?? '', problem);
      if (!base || !tenant) return undefined;
      return {
        issuer: `${base.href}/${tenant}/v2.0`,
        endpoints: {},
        quirks: {
          errorCodeAliases: { authorization_declined: 'access_denied', bad_verification_code: 'invalid_grant' },
          noRevocation: true,
        },
        defaultScopes: oidcScopes,
        // One token request serves one resource: an API is chosen through its `.default` scope.
        requiredScopes: input.audience ? [entraAudienceScope(input.audience)] : [],
        flows: bothFlows,
      };
    },
  },
  {
    id: 'okta',
    label: 'Okta',
    settings: { domain: 'required', authorizationServer: 'optional' },
    flows: bothFlows,
    resolve(input, problem) {
      const base = baseUrl(input.domain ?? '', 'domain', problem);
      const server = input.authorizationServer ?? 'default';
      if (!/^[A-Za-z0-9_-]+$/.test(server)) {
        problem('authorizationServer', `${settingName('authorizationServer')} must be the id of an Okta authorization server, e.g. "default" or "aus1a2b3c4d5e6f7g8h9".`);
        return undefined;
      }
      if (!base) return undefined;
      // Okta compares sign-in redirect URIs exactly, port included.
      return { issuer: `${base.href}/oauth2/${server}`, endpoints: {}, quirks: {}, defaultScopes: oidcScopes, requiredScopes: [], flows: bothFlows, loopbackPort: exactRedirectPort };
    },
  },
  {
    id: 'auth0',
    label: 'Auth0',
    settings: { domain: 'required', audience: 'optional' },
    flows: bothFlows,
    resolve(input, problem) {
      const base = baseUrl(input.domain ?? '', 'domain', problem);
      if (!base) return undefined;
      const audience = input.audience ? { audience: input.audience } : undefined;
      return {
        // Auth0's issuer ends with a slash, and ID tokens carry it that way.
        issuer: `${base.href}/`,
        endpoints: {},
        quirks: audience ? { authorizationParameters: audience, deviceAuthorizationParameters: audience } : {},
        defaultScopes: oidcScopes,
        requiredScopes: [],
        flows: bothFlows,
      };
    },
  },
  {
    id: 'keycloak',
    label: 'Keycloak',
    settings: { domain: 'required', realm: 'required' },
    flows: bothFlows,
    resolve(input, problem) {
      const base = baseUrl(input.domain ?? '', 'domain', problem);
      if (!base || !input.realm) return undefined;
      return { issuer: `${base.href}/realms/${encodeURIComponent(input.realm)}`, endpoints: {}, quirks: {}, defaultScopes: oidcScopes, requiredScopes: [], flows: bothFlows };
    },
  },
];

export const presetIds: readonly PresetId[] = presets.map((preset) => preset.id);

export function findPreset(id: unknown): Preset | undefined {
  return presets.find((preset) => preset.id === id);
}

/** What each setting is for, per preset, in the words of the messages. */
const requiredHints: Partial<Record<PresetSetting, Partial<Record<PresetId, string>>>> = {
  domain: {
    okta: 'your Okta domain, e.g. "dev-123456.okta.com"',
    auth0: 'your Auth0 domain, e.g. "my-tenant.eu.auth0.com" or your custom domain',
    keycloak: 'the base URL of your Keycloak server, e.g. "https://sso.example.com" (add "/auth" for Keycloak before version 17)',
  },
  tenant: { entra: 'the Directory (tenant) ID of your Entra tenant, a GUID shown on the tenant\'s Overview page' },
  realm: { keycloak: 'the name of the realm, e.g. "dev"' },
  clientSecret: { google: 'the client secret of your Desktop or TVs and Limited Input client; Google requires it but does not treat it as confidential' },
};

/**
 * The preset's settings -> issuer, endpoints, quirks and scopes, or every problem at once, each
 * naming its setting and how to fix it. Settings a preset does not use are ignored, except the two
 * that would change what is sent (client secret, audience): setting those for nothing is a mistake
 * worth pointing out.
 */
export function resolvePreset(id: PresetId, raw: PresetInput): PresetResolution {
  const preset = findPreset(id);
  if (!preset) throw new Error(`Unknown preset ${id}`);
  const input: PresetInput = {};
  for (const [name, value] of Object.entries(raw) as [PresetSetting, string | undefined][]) {
    const text = value?.trim();
    if (text) input[name] = text;
  }
  const problems: PresetProblem[] = [];
  const problem = (setting: PresetSetting, message: string) => problems.push({ setting, message });

  for (const [setting, use] of Object.entries(preset.settings) as [PresetSetting, 'required' | 'optional'][]) {
    if (use === 'required' && !input[setting]) {
      const hint = requiredHints[setting]?.[id];
      problem(setting, `The ${preset.label} preset needs ${settingName(setting)}${hint ? `: ${hint}` : ''}.`);
    }
  }
  for (const setting of ['clientSecret', 'audience'] as const) {
    if (input[setting] && !preset.settings[setting]) {
      problem(setting, `${settingName(setting)} is set, but the ${preset.label} preset does not use it${setting === 'clientSecret' ? ' (register a public client instead)' : ''}. Clear it.`);
    }
  }
  if (problems.length) return { ok: false, problems };
  const value = preset.resolve(input, problem);
  if (!value || problems.length) return { ok: false, problems };
  return { ok: true, value };
}

/**
 * A host name or URL -> an https (or loopback http) base URL without a trailing slash; a bare host
 * means https. `href` is returned without the slash URL adds to an empty path.
 */
function baseUrl(value: string, setting: PresetSetting, problem: (setting: PresetSetting, message: string) => void): { href: string; host: string; protocol: string } | undefined {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problem(setting, `${settingName(setting)} "${value}" is neither a host name nor a URL, e.g. "login.example.com".`);
    return undefined;
  }
  if (!isAllowedEndpointUrl(url)) {
    problem(setting, `${settingName(setting)} ${url.origin} must use HTTPS. Plain http is only allowed for loopback addresses (127.0.0.0/8, localhost, [::1]).`);
    return undefined;
  }
  if (url.search || url.hash || url.username || url.password) {
    problem(setting, `${settingName(setting)} must be a host name or base URL without query, fragment or user name.`);
    return undefined;
  }
  return { href: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, host: url.host, protocol: url.protocol };
}

/**
 * An Entra tenant as its metadata names it. `common` and `organizations` publish the issuer as the
 * template ".../{tenantid}/v2.0" and sign tokens with each user's own tenant, which an exact issuer
 * check cannot follow; a domain name's metadata names the tenant by its id, so the configured issuer
 * would not match either. Both are refused with a way out rather than checked loosely.
 */
function entraTenant(value: string, problem: (setting: PresetSetting, message: string) => void): string | undefined {
  if (!value) return undefined;
  const tenant = value.toLowerCase();
  if (tenant === 'consumers') return entraConsumersTenant;
  if (guidPattern.test(tenant)) return tenant;
  if (tenant === 'common' || tenant === 'organizations') {
    problem('tenant', `${settingName('tenant')} "${value}" (multi-tenant sign-in) is not supported: its tokens name each user's own tenant, which cannot be checked against one issuer. Set the Directory (tenant) ID (a GUID) of the tenant to sign in to, or "consumers" for personal Microsoft accounts.`);
    return undefined;
  }
  problem('tenant', `${settingName('tenant')} "${value}" is not a tenant id. Set the Directory (tenant) ID, a GUID shown on the tenant's Overview page in the Entra admin center (Entra's metadata names a tenant by its id, so a domain name would fail the issuer check), or "consumers".`);
  return undefined;
}

/** An API's App ID URI (or a full `.default` scope) -> the scope that asks a token for that API. */
export function entraAudienceScope(audience: string): string {
  const text = audience.trim();
  return text.endsWith('/.default') ? text : `${text.replace(/\/+$/, '')}/.default`;
}
