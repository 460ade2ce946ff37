import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseFlow, type Environment, type FlowCapabilities, type FlowSetting } from '../../src/oauth/chooseFlow.js';

const both: FlowCapabilities = { authorizationCode: true, deviceGrant: true };
const noDevice: FlowCapabilities = { authorizationCode: true, deviceGrant: false };
const noAuthorization: FlowCapabilities = { authorizationCode: false, deviceGrant: true };
const neither: FlowCapabilities = { authorizationCode: false, deviceGrant: false };

const desktopLocal: Environment = { remoteName: undefined, uiKind: 'desktop', extensionKind: 'workspace' };

/** Every remote authority VS Code is known to set, plus code-server's host:port and an unknown one. */
const remoteNames = [
  'ssh-remote',
  'wsl',
  'dev-container',
  'attached-container',
  'codespaces',
  'tunnel',
  'k8s-container',
  '127.0.0.1:18734',
  'some-future-remote',
];

const remoteWindow = (remoteName: string): Environment => ({ remoteName, uiKind: 'desktop', extensionKind: 'workspace' });
const webLocal: Environment = { remoteName: undefined, uiKind: 'web', extensionKind: 'workspace' };
const webRemote: Environment = { remoteName: 'codespaces', uiKind: 'web', extensionKind: 'workspace' };
const webUiSide: Environment = { remoteName: undefined, uiKind: 'web', extensionKind: 'ui' };
const desktopRemoteUiSide: Environment = { remoteName: 'ssh-remote', uiKind: 'desktop', extensionKind: 'ui' };

/** Environments where the browser may be on another machine than the extension host. */
const browserElsewhere: Array<[string, Environment]> = [
  ...remoteNames.map((name): [string, Environment] => [`remote "${name}"`, remoteWindow(name)]),
  ['browser UI, no remote', webLocal],
  ['browser UI in a remote', webRemote],
  ['browser UI, extension on the ui side', webUiSide],
];

/** Environments where the browser runs on the same machine as the extension host. */
const browserHere: Array<[string, Environment]> = [
  ['desktop, no remote', desktopLocal],
  ['desktop remote window, extension on the ui side', desktopRemoteUiSide],
];

const everyEnvironment = [...browserHere, ...browserElsewhere];

describe('chooseFlow, setting "auto", IdP with both grants', () => {
  test('desktop without a remote: loopback first, the device grant offered as the alternative', () => {
    const choice = chooseFlow(desktopLocal, both, 'auto');
    assert.deepEqual(choice.flows, ['loopback', 'device']);
    assert.equal(choice.forwardLoopback, false);
  });

  for (const remoteName of remoteNames) {
    test(`remote "${remoteName}": the device grant first, any loopback fallback forwarded`, () => {
      const choice = chooseFlow(remoteWindow(remoteName), both, 'auto');
      assert.equal(choice.flows[0], 'device');
      if (choice.flows.includes('loopback')) assert.equal(choice.forwardLoopback, true, 'loopback in a remote needs the port forward');
    });
  }

  for (const [name, environment] of [['no remote', webLocal], ['in a remote', webRemote], ['extension on the ui side', webUiSide]] as const) {
    test(`browser UI ${name}: the device grant first`, () => {
      const choice = chooseFlow(environment, both, 'auto');
      assert.equal(choice.flows[0], 'device');
      if (choice.flows.includes('loopback')) assert.equal(choice.forwardLoopback, true);
    });
  }

  test('desktop remote window with the extension on the ui side: loopback, since the browser is local', () => {
    const choice = chooseFlow(desktopRemoteUiSide, both, 'auto');
    assert.deepEqual(choice.flows, ['loopback', 'device']);
    assert.equal(choice.forwardLoopback, false);
  });
});

describe('chooseFlow, setting "auto", IdP capabilities', () => {
  for (const [name, environment] of browserElsewhere) {
    test(`no device endpoint, ${name}: loopback through the port forward`, () => {
      const choice = chooseFlow(environment, noDevice, 'auto');
      assert.deepEqual(choice.flows, ['loopback']);
      assert.equal(choice.forwardLoopback, true);
    });
  }

  for (const [name, environment] of browserHere) {
    test(`no device endpoint, ${name}: loopback only, not forwarded`, () => {
      const choice = chooseFlow(environment, noDevice, 'auto');
      assert.deepEqual(choice.flows, ['loopback']);
      assert.equal(choice.forwardLoopback, false);
    });
  }

  for (const [name, environment] of everyEnvironment) {
    test(`no authorization endpoint, ${name}: the device grant only`, () => {
      const choice = chooseFlow(environment, noAuthorization, 'auto');
      assert.deepEqual(choice.flows, ['device']);
      assert.equal(choice.forwardLoopback, false);
    });

    test(`neither grant, ${name}: no flow, with a reason`, () => {
      const choice = chooseFlow(environment, neither, 'auto');
      assert.deepEqual(choice.flows, []);
      assert.match(choice.reason, /neither/);
    });
  }
});

describe('chooseFlow, the flow setting wins in every environment', () => {
  const settings: Array<Exclude<FlowSetting, 'auto'>> = ['loopback', 'device'];
  for (const setting of settings) {
    for (const [name, environment] of everyEnvironment) {
      test(`"${setting}", ${name}`, () => {
        const choice = chooseFlow(environment, both, setting);
        assert.deepEqual(choice.flows, [setting]);
        const needsForward = setting === 'loopback' && browserElsewhere.some(([, candidate]) => candidate === environment);
        assert.equal(choice.forwardLoopback, needsForward);
        assert.match(choice.reason, new RegExp(`"${setting}"`));
      });
    }
  }
});

describe('chooseFlow reason', () => {
  for (const remoteName of remoteNames) {
    test(`names the remote "${remoteName}"`, () => {
      for (const capabilities of [both, noDevice, noAuthorization, neither]) {
        assert.ok(chooseFlow(remoteWindow(remoteName), capabilities, 'auto').reason.includes(remoteName));
      }
      assert.ok(chooseFlow(remoteWindow(remoteName), both, 'device').reason.includes(remoteName));
    });
  }

  test('says a local window is local and names the browser UI', () => {
    assert.match(chooseFlow(desktopLocal, both, 'auto').reason, /local window/);
    assert.match(chooseFlow(webLocal, both, 'auto').reason, /browser UI/);
  });
});
