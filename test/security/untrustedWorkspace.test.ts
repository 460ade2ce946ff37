// Settings from an untrusted workspace must not decide where a user signs in: a cloned repository's
// .vscode/settings.json could otherwise point the issuer, the client id or an endpoint at an
// attacker and collect the user's tokens, or switch the flow to one that sends the code elsewhere.
//
// What Node can check is the manifest: every setting that decides where and how a user signs in is
// application-scoped (VS Code reads those from user settings only, never from a workspace or
// folder) AND is listed under capabilities.untrustedWorkspaces.restrictedConfigurations, with
// untrusted support declared "limited". The runtime proof, that VS Code ignores workspace values
// of these settings (in an untrusted workspace and a trusted one alike), belongs in the end-to-end
// tier (test/e2e, real VS Code in code-server), not here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

interface SettingSchema {
  scope?: string;
  type?: string | string[];
}

interface Manifest {
  capabilities?: { untrustedWorkspaces?: { supported?: unknown; description?: unknown; restrictedConfigurations?: unknown } };
  contributes?: { configuration?: { properties?: Record<string, SettingSchema> } | { properties?: Record<string, SettingSchema> }[] };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as Manifest;
/** The texts package.json refers to as "%key%" (as VS Code shows them in English). */
const manifestTexts = JSON.parse(readFileSync(join(__dirname, '../../package.nls.json'), 'utf8')) as Record<string, string>;
const shown = (text: unknown) => (typeof text === 'string' ? (manifestTexts[/^%(.+)%$/.exec(text)?.[1] ?? ''] ?? text) : undefined);

/**
 * The settings that decide where a user signs in and with what, and where tokens go: which git
 * servers get them, and whether terminal tools get any.
 */
const signInSettings = ['issuer', 'clientId', 'endpoints', 'flow', 'scopes', 'loopbackPort', 'label', 'gitHosts', 'gitUsername', 'terminal.enabled'].map((name) => `oauthAnywhere.${name}`);

function properties(): Record<string, SettingSchema> {
  const configuration = manifest.contributes?.configuration;
  const sections = Array.isArray(configuration) ? configuration : configuration ? [configuration] : [];
  return Object.assign({}, ...sections.map((section) => section.properties ?? {})) as Record<string, SettingSchema>;
}

describe('untrusted workspaces cannot change where a user signs in (manifest)', () => {
  const declared = properties();
  const restricted = manifest.capabilities?.untrustedWorkspaces?.restrictedConfigurations;

  it('declares limited support for untrusted workspaces, with a reason shown to the user', () => {
    assert.equal(manifest.capabilities?.untrustedWorkspaces?.supported, 'limited');
    const description = shown(manifest.capabilities?.untrustedWorkspaces?.description);
    assert.match(description ?? '', /untrusted workspaces.*user settings/, 'a description of what is limited');
    assert.ok(Array.isArray(restricted) && restricted.every((name) => typeof name === 'string'), 'restrictedConfigurations is a list of setting names');
  });

  for (const name of signInSettings) {
    it(`${name}: contributed, application-scoped and restricted in untrusted workspaces`, () => {
      const schema = declared[name];
      assert.ok(schema, `${name} is contributed`);
      assert.equal(schema.scope, 'application', `${name} is application-scoped (never read from a workspace)`);
      assert.ok((restricted as string[]).includes(name), `${name} is in restrictedConfigurations`);
    });
  }

  it('every restricted name is a real, application-scoped setting', () => {
    // A restricted name that matches no setting (a typo, a renamed setting) protects nothing.
    for (const name of restricted as string[]) {
      assert.ok(declared[name], `${name} (restricted) is a contributed setting`);
      assert.equal(declared[name].scope, 'application', `${name} (restricted) is application-scoped too`);
    }
  });

  it('no setting can be set per resource or per language (which a workspace folder could override)', () => {
    for (const [name, schema] of Object.entries(declared)) {
      assert.ok(!['resource', 'language-overridable', 'machine-overridable'].includes(schema.scope ?? ''), `${name} has scope ${schema.scope}`);
    }
  });
});
