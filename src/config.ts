import { parseEndpoint, parseIssuer } from './oauth/endpointUrls.js';
import { OAuthError } from './oauth/errors.js';
import type { FlowSetting } from './oauth/chooseFlow.js';
import type { EndpointOverrides, ProviderConfig } from './oauth/types.js';

export const settingsSection = 'oauthAnywhere';
export const defaultScopes = ['openid', 'profile', 'email', 'offline_access'];
export const defaultLabel = 'OAuth Anywhere';

export interface ExtensionSettings {
  provider: ProviderConfig;
  flow: FlowSetting;
  loopbackPort: number;
}

/** A setting that cannot work, named so the shell can open it. */
export interface SettingProblem {
  setting: string;
  message: string;
}

export type SettingsResult = { ok: true; settings: ExtensionSettings } | { ok: false; problems: SettingProblem[] };

/** Reads one setting below `oauthAnywhere.`; the shell passes WorkspaceConfiguration.get. */
export type SettingReader = (key: string) => unknown;

const flows: readonly FlowSetting[] = ['auto', 'loopback', 'device'];
const endpointNames: readonly (keyof EndpointOverrides)[] = ['authorization_endpoint', 'token_endpoint', 'device_authorization_endpoint', 'revocation_endpoint', 'userinfo_endpoint', 'jwks_uri'];

/** Settings -> a validated configuration, or every problem at once, each with a way to fix it. */
export function readSettings(read: SettingReader): SettingsResult {
  const problems: SettingProblem[] = [];
  const problem = (key: string, message: string) => problems.push({ setting: `${settingsSection}.${key}`, message });

  const issuer = stringSetting(read('issuer'));
  if (!issuer) problem('issuer', 'No identity provider is configured. Set "OAuth Anywhere: Issuer" to your identity provider\'s issuer URL.');
  else misconfiguration(() => parseIssuer(issuer), (message) => problem('issuer', message));

  const clientId = stringSetting(read('clientId'));
  if (!clientId) problem('clientId', 'No client id is configured. Register a public (native) client at your identity provider and set "OAuth Anywhere: Client Id".');

  const scopesValue = read('scopes') ?? defaultScopes;
  const scopes = Array.isArray(scopesValue) && scopesValue.every((scope) => typeof scope === 'string' && !/\s/.test(scope.trim())) ? (scopesValue as string[]).map((scope) => scope.trim()).filter(Boolean) : undefined;
  if (!scopes) problem('scopes', '"OAuth Anywhere: Scopes" must be a list of scope names without spaces, e.g. ["openid", "profile"].');

  const flowValue = read('flow') ?? 'auto';
  const flow = flows.find((candidate) => candidate === flowValue);
  if (!flow) problem('flow', `"OAuth Anywhere: Flow" is "${String(flowValue)}"; use one of ${flows.map((name) => `"${name}"`).join(', ')}.`);

  const endpoints: EndpointOverrides = {};
  const endpointsValue = read('endpoints') ?? {};
  if (typeof endpointsValue !== 'object' || endpointsValue === null || Array.isArray(endpointsValue)) {
    problem('endpoints', '"OAuth Anywhere: Endpoints" must be an object of endpoint URLs.');
  } else {
    for (const [name, value] of Object.entries(endpointsValue)) {
      const known = endpointNames.find((candidate) => candidate === name);
      if (!known) problem('endpoints', `"${name}" is not an endpoint this extension knows; use ${endpointNames.join(', ')}.`);
      else if (typeof value !== 'string') problem('endpoints', `${name} must be a URL string.`);
      else if (value.trim()) misconfiguration(() => (endpoints[known] = parseEndpoint(name, value.trim()).href), (message) => problem('endpoints', message));
    }
  }

  const portValue = read('loopbackPort') ?? 0;
  const loopbackPort = typeof portValue === 'number' && Number.isInteger(portValue) && portValue >= 0 && portValue <= 65535 ? portValue : undefined;
  if (loopbackPort === undefined) problem('loopbackPort', '"OAuth Anywhere: Loopback Port" must be a whole number from 0 (any free port) to 65535.');

  if (problems.length || !issuer || !clientId || !scopes || !flow || loopbackPort === undefined) return { ok: false, problems };
  return { ok: true, settings: { provider: { issuer, clientId, scopes, endpoints }, flow, loopbackPort } };
}

function stringSetting(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

function misconfiguration(check: () => unknown, report: (message: string) => void): void {
  try {
    check();
  } catch (error) {
    if (error instanceof OAuthError) report(error.message);
    else throw error;
  }
}
