/** Where the extension host runs, as plain values (the shell reads them from vscode.env). */
export interface Environment {
  /** vscode.env.remoteName: undefined in a local window. */
  remoteName: string | undefined;
  uiKind: 'desktop' | 'web';
  /** Which side of a remote window this extension host is on. */
  extensionKind: 'ui' | 'workspace';
}

export type Flow = 'loopback' | 'device';
export type FlowSetting = 'auto' | Flow;

export interface FlowCapabilities {
  authorizationCode: boolean;
  deviceGrant: boolean;
}

export interface FlowChoice {
  /** Flows to offer, best first; the first is started, the rest are the "instead" options. */
  flows: Flow[];
  /** The loopback redirect must go through VS Code's port forwarding (asExternalUri). */
  forwardLoopback: boolean;
  /** One sentence for the log and the troubleshooting report. */
  reason: string;
}

/**
 * Picks the sign-in flow for where VS Code runs. The loopback redirect only works when the browser runs
 * on the machine of the extension host, which is certain only for a local desktop window (or the UI
 * side of a remote one); everywhere else the device grant works and loopback needs a port forward.
 */
export function chooseFlow(environment: Environment, capabilities: FlowCapabilities, setting: FlowSetting): FlowChoice {
  const where = describe(environment);
  const browserIsLocal = environment.uiKind === 'desktop' && (environment.remoteName === undefined || environment.extensionKind === 'ui');

  if (setting !== 'auto') {
    return {
      flows: [setting],
      forwardLoopback: setting === 'loopback' && !browserIsLocal,
      reason: `oauthAnywhere.flow is "${setting}" (${where}).`,
    };
  }
  if (!capabilities.deviceGrant && !capabilities.authorizationCode) {
    return { flows: [], forwardLoopback: false, reason: `the identity provider offers neither the authorization code grant nor the device grant (${where}).` };
  }
  if (browserIsLocal) {
    if (!capabilities.authorizationCode) return { flows: ['device'], forwardLoopback: false, reason: `${where}, but the identity provider offers no authorization endpoint: device grant.` };
    return {
      flows: capabilities.deviceGrant ? ['loopback', 'device'] : ['loopback'],
      forwardLoopback: false,
      reason: `${where}: the browser is on this machine, so loopback redirect with PKCE.`,
    };
  }
  if (capabilities.deviceGrant) {
    return {
      flows: capabilities.authorizationCode ? ['device', 'loopback'] : ['device'],
      forwardLoopback: capabilities.authorizationCode,
      reason: `${where}: the browser may be on another machine, so the device grant.`,
    };
  }
  return {
    flows: ['loopback'],
    forwardLoopback: true,
    reason: `${where}, and the identity provider offers no device grant: loopback redirect through VS Code's port forwarding.`,
  };
}

function describe(environment: Environment): string {
  const ui = environment.uiKind === 'web' ? 'browser UI' : 'desktop UI';
  if (environment.remoteName === undefined) return `local window, ${ui}`;
  return `remote "${environment.remoteName}", ${ui}, extension on the ${environment.extensionKind} side`;
}
