import { parseEndpoint, parseIssuer } from './oauth/endpointUrls.js';
import { isOAuthError } from './oauth/errors.js';
import type { Flow, FlowSetting } from './oauth/chooseFlow.js';
import { findPreset, presetIds, resolvePreset, settingName, type PresetId, type PresetInput, type PresetSetting, type ResolvedPreset } from './oauth/presets.js';
import type { EndpointOverrides, ProviderConfig } from './oauth/types.js';

export const settingsSection = 'oauthAnywhere';
export const defaultScopes = ['openid', 'profile', 'email', 'offline_access'];
export const defaultLabel = 'OAuth Anywhere';

export interface ExtensionSettings {
  provider: ProviderConfig;
  flow: FlowSetting;
  loopbackPort: number;
  /**
   * Set for every preset but `custom`, whose settings stay exactly what they always were.
   * `loopbackPort`: the port the preset fixes (its provider compares redirect URIs exactly); a
   * `loopbackPort` setting of 0 means this port, not any free port.
   */
  preset?: { id: PresetId; label: string; flows: Flow[]; loopbackPort?: number };
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
const presetSettings: readonly PresetSetting[] = ['domain', 'tenant', 'realm', 'audience', 'clientSecret', 'authorizationServer'];
const endpointNames: readonly (keyof EndpointOverrides)[] = ['authorization_endpoint', 'token_endpoint', 'device_authorization_endpoint', 'revocation_endpoint', 'userinfo_endpoint', 'jwks_uri'];

/** Settings -> a validated configuration, or every problem at once, each with a way to fix it. */
export function readSettings(read: SettingReader): SettingsResult {
  const problems: SettingProblem[] = [];
  const problem = (key: string, message: string) => problems.push({ setting: `${settingsSection}.${key}`, message });

  const presetValue = read('preset') ?? 'custom';
  const preset = findPreset(presetValue);
  if (!preset) problem('preset', `"OAuth Anywhere: Preset" is ${shownValue(presetValue)}; use one of ${presetIds.map((id) => `"${id}"`).join(', ')}.`);
  const presetInput: PresetInput = Object.fromEntries(presetSettings.map((key) => [key, stringSetting(read(key))]));

  let issuer = stringSetting(read('issuer'));
  let resolved: ResolvedPreset | undefined;
  if (preset && preset.id !== 'custom') {
    // The preset derives the issuer; one typed in as well must agree with it.
    const resolution = resolvePreset(preset.id, presetInput);
    if (!resolution.ok) for (const found of resolution.problems) problem(found.setting, found.message);
    else {
      resolved = resolution.value;
      if (issuer && !sameUrl(issuer, resolved.issuer)) {
        problem('issuer', `"OAuth Anywhere: Issuer" is ${issuer}, but the ${preset.label} preset derives ${resolved.issuer} from its settings. Clear "OAuth Anywhere: Issuer", or use the "custom" preset.`);
      }
      issuer = resolved.issuer;
    }
  } else if (preset) {
    // Pure discovery; only a client secret or audience set for nothing is worth a word.
    const resolution = resolvePreset('custom', presetInput);
    if (!resolution.ok) for (const found of resolution.problems) problem(found.setting, found.message);
    if (!issuer) problem('issuer', 'No identity provider is configured. Set "OAuth Anywhere: Issuer" to your identity provider\'s issuer URL, or pick your provider in "OAuth Anywhere: Preset".');
    else misconfiguration(() => parseIssuer(issuer), (message) => problem('issuer', message));
  }

  const clientId = stringSetting(read('clientId'));
  if (!clientId) problem('clientId', 'No client id is configured. Register a public (native) client at your identity provider and set "OAuth Anywhere: Client Id".');

  const scopesValue = read('scopes') ?? defaultScopes;
  let scopes = Array.isArray(scopesValue) && scopesValue.every((scope) => typeof scope === 'string' && !/\s/.test(scope.trim())) ? (scopesValue as string[]).map((scope) => scope.trim()).filter(Boolean) : undefined;
  if (!scopes) problem('scopes', '"OAuth Anywhere: Scopes" must be a list of scope names without spaces, e.g. ["openid", "profile"].');
  else if (resolved) {
    // VS Code hands back the contributed default for an unset setting: that default means "the
    // preset's scopes" (GitHub has no openid, Google refuses offline_access).
    const chosen = sameList(scopes, defaultScopes) ? resolved.defaultScopes : scopes;
    scopes = [...chosen, ...resolved.requiredScopes.filter((scope) => !chosen.includes(scope))];
  }

  const flowValue = read('flow') ?? 'auto';
  const flow = flows.find((candidate) => candidate === flowValue);
  if (!flow) problem('flow', `"OAuth Anywhere: Flow" is ${shownValue(flowValue)}; use one of ${flows.map((name) => `"${name}"`).join(', ')}.`);
  else if (flow !== 'auto' && preset && resolved && !resolved.flows.includes(flow)) {
    const why = preset.flows.includes(flow)
      ? `needs ${settingName('clientSecret')} for it (${preset.label} requires the secret for the browser sign-in)`
      : 'does not offer it';
    problem('flow', `"OAuth Anywhere: Flow" is "${flow}", but the ${preset.label} preset ${why}. Set the flow to "auto" or "${resolved.flows[0]}".`);
  }

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
  const validPort = typeof portValue === 'number' && Number.isInteger(portValue) && portValue >= 0 && portValue <= 65535 ? portValue : undefined;
  const zeroMeans = resolved?.loopbackPort ? `0 means port ${resolved.loopbackPort}, which the ${preset!.label} preset needs` : '0 picks any free port';
  if (validPort === undefined) problem('loopbackPort', `"OAuth Anywhere: Loopback Port" must be a whole number from 0 to 65535 (${zeroMeans}).`);
  // 0 means "not chosen": a preset whose provider matches redirect URIs exactly has its fixed port.
  const loopbackPort = validPort === 0 ? (resolved?.loopbackPort ?? 0) : validPort;

  if (problems.length || !issuer || !clientId || !scopes || !flow || loopbackPort === undefined) return { ok: false, problems };
  if (!preset || !resolved) return { ok: true, settings: { provider: { issuer, clientId, scopes, endpoints }, flow, loopbackPort } };
  return {
    ok: true,
    settings: {
      provider: {
        issuer,
        clientId,
        scopes,
        // Endpoints typed into the settings win over the preset's.
        endpoints: { ...resolved.endpoints, ...endpoints },
        quirks: resolved.quirks,
        ...(resolved.clientSecret ? { clientSecret: resolved.clientSecret } : {}),
      },
      flow,
      loopbackPort,
      preset: { id: preset.id, label: preset.label, flows: resolved.flows, ...(resolved.loopbackPort ? { loopbackPort: resolved.loopbackPort } : {}) },
    },
  };
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

function stringSetting(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

function misconfiguration(check: () => unknown, report: (message: string) => void): void {
  try {
    check();
  } catch (error) {
    if (isOAuthError(error)) report(error.message);
    else throw error;
  }
}

export const mainProviderId = 'oauth-anywhere';

/** One authentication provider to register: the main one, or an entry of `oauthAnywhere.providers`. */
export interface ProviderDefinition {
  /** The id other extensions pass to getSession. */
  id: string;
  label: string;
  /** Reads this provider's settings by their names below `oauthAnywhere.`. */
  read: SettingReader;
}

const entryKeys = ['id', 'label', 'issuer', 'clientId', 'scopes', 'flow', 'endpoints', 'preset', 'loopbackPort', 'signOutAtIdentityProvider', 'browserCheckSeconds', 'gitHosts', 'gitUsername', ...presetSettings] as const;
/** Settings an entry inherits from the main provider unless it sets them itself. */
const sharedKeys = ['loopbackPort', 'signOutAtIdentityProvider', 'browserCheckSeconds'];
const entryIdPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;

/**
 * The main provider plus one per valid entry of `oauthAnywhere.providers`. An entry is registered as
 * `oauth-anywhere.<id>`, so it can never take the id of another extension's provider (`github`,
 * `microsoft`). Entries share the main provider's loopback port and sign-out choice unless they set
 * their own; everything else is theirs alone.
 */
export function readProviderDefinitions(read: SettingReader): { definitions: ProviderDefinition[]; problems: SettingProblem[] } {
  const label = stringSetting(read('label')) || defaultLabel;
  const definitions: ProviderDefinition[] = [{ id: mainProviderId, label, read }];
  const problems: SettingProblem[] = [];
  const entries = read('providers') ?? [];
  if (!Array.isArray(entries)) {
    return { definitions, problems: [{ setting: `${settingsSection}.providers`, message: '"OAuth Anywhere: Providers" must be a list of provider objects.' }] };
  }
  const seen = new Set<string>();
  entries.forEach((entry: unknown, index) => {
    const where = `${settingsSection}.providers`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push({ setting: where, message: `Entry ${index + 1} of "OAuth Anywhere: Providers" is not an object.` });
      return;
    }
    const fields = entry as Record<string, unknown>;
    const id = stringSetting(fields.id);
    if (!entryIdPattern.test(id)) {
      problems.push({ setting: where, message: `Entry ${index + 1} of "OAuth Anywhere: Providers" needs an "id" of lower-case letters, digits and dashes (at most 40), e.g. "work".` });
      return;
    }
    if (seen.has(id)) {
      problems.push({ setting: where, message: `Two entries of "OAuth Anywhere: Providers" have the id "${id}"; ids must be unique.` });
      return;
    }
    seen.add(id);
    const unknown = Object.keys(fields).filter((key) => !(entryKeys as readonly string[]).includes(key));
    if (unknown.length) problems.push({ setting: where, message: `Provider "${id}": unknown field(s) ${unknown.map((key) => `"${key}"`).join(', ')}; known: ${entryKeys.join(', ')}.` });
    definitions.push({
      id: `${mainProviderId}.${id}`,
      label: stringSetting(fields.label) || id,
      read: (key) => (key in fields ? fields[key] : sharedKeys.includes(key) ? read(key) : undefined),
    });
  });
  return { definitions, problems };
}

/** A setting's value as it reads in a message: a text in quotes, anything else as JSON. */
function shownValue(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
}
