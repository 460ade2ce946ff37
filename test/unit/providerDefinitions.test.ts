import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readProviderDefinitions, readSettings } from '../../src/config.js';

const reader = (values: Record<string, unknown>) => (key: string) => values[key];

describe('oauthAnywhere.providers -> one authentication provider per entry', () => {
  it('always has the main provider, labelled from oauthAnywhere.label', () => {
    const { definitions, problems } = readProviderDefinitions(reader({ label: 'Corp SSO' }));
    assert.deepEqual(problems, []);
    assert.deepEqual(definitions.map((definition) => [definition.id, definition.label]), [['oauth-anywhere', 'Corp SSO']]);
  });

  it('registers each entry as oauth-anywhere.<id> with its own settings and the shared loopback port', () => {
    const { definitions, problems } = readProviderDefinitions(
      reader({
        issuer: 'https://main.example.com',
        clientId: 'main',
        loopbackPort: 4711,
        providers: [
          { id: 'work', label: 'Work', preset: 'okta', domain: 'example.okta.com', clientId: 'w1' },
          { id: 'lab', issuer: 'https://lab.example.com/', clientId: 'l1', loopbackPort: 9999 },
        ],
      }),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(definitions.map((definition) => [definition.id, definition.label]), [
      ['oauth-anywhere', 'OAuth Anywhere'],
      ['oauth-anywhere.work', 'Work'],
      ['oauth-anywhere.lab', 'lab'],
    ]);
    const work = readSettings(definitions[1]!.read);
    assert.ok(work.ok);
    assert.equal(work.settings.provider.issuer, 'https://example.okta.com/oauth2/default');
    assert.equal(work.settings.provider.clientId, 'w1');
    assert.equal(work.settings.loopbackPort, 4711, 'inherited');
    const lab = readSettings(definitions[2]!.read);
    assert.ok(lab.ok);
    assert.equal(lab.settings.provider.issuer, 'https://lab.example.com/');
    assert.equal(lab.settings.loopbackPort, 9999, 'its own');
  });

  it('does not let an entry inherit where the main provider signs in', () => {
    const { definitions } = readProviderDefinitions(reader({ issuer: 'https://main.example.com', clientId: 'main', providers: [{ id: 'empty' }] }));
    const result = readSettings(definitions[1]!.read);
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.problems.some((problem) => problem.setting === 'oauthAnywhere.issuer'));
    assert.ok(!result.ok && result.problems.some((problem) => problem.setting === 'oauthAnywhere.clientId'));
  });

  it('refuses bad, duplicate and colliding ids and unknown fields, naming the entry', () => {
    const { definitions, problems } = readProviderDefinitions(
      reader({ providers: [{ id: 'Work Stuff' }, { id: 'ok' }, { id: 'ok' }, 'nope', { id: 'x', isser: 'typo' }] }),
    );
    assert.deepEqual(definitions.map((definition) => definition.id), ['oauth-anywhere', 'oauth-anywhere.ok', 'oauth-anywhere.x']);
    const messages = problems.map((problem) => problem.message).join('\n');
    assert.match(messages, /Entry 1 .* needs an "id"/);
    assert.match(messages, /Two entries .* "ok"/);
    assert.match(messages, /Entry 4 .* not an object/);
    assert.match(messages, /Provider "x": unknown field\(s\) "isser"/);
    assert.ok(problems.every((problem) => problem.setting === 'oauthAnywhere.providers'));
  });

  it('reports a providers value that is not a list, keeping the main provider', () => {
    const { definitions, problems } = readProviderDefinitions(reader({ providers: { id: 'work' } }));
    assert.equal(definitions.length, 1);
    assert.match(problems[0]!.message, /must be a list/);
  });
});
