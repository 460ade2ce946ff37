import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSharedSecrets } from '../support/memorySecretStorage.js';

// The stand-in's own contract: the session and lease tests rely on each of these properties.
describe('memory SecretStorage stand-in', () => {
  test('two windows see the same secrets', async () => {
    const shared = createSharedSecrets();
    const a = shared.window();
    const b = shared.window();
    await a.store('k', 'v1');
    assert.equal(await b.get('k'), 'v1');
    await b.delete('k');
    assert.equal(await a.get('k'), undefined);
    assert.equal(shared.backing.size, 0);
  });

  test('operations settle on a later tick, not synchronously', async () => {
    const shared = createSharedSecrets();
    const a = shared.window();
    const storing = a.store('k', 'v');
    assert.equal(shared.backing.has('k'), false, 'not written yet when store() returns');
    await storing;
    assert.equal(shared.backing.get('k'), 'v');
  });

  test('a write fires onDidChange in every window, the writer included, after the write landed', async () => {
    const shared = createSharedSecrets();
    const a = shared.window();
    const b = shared.window();
    const seen: string[] = [];
    a.onDidChange(({ key }) => seen.push(`a:${key}:${shared.backing.get(key)}`));
    b.onDidChange(({ key }) => seen.push(`b:${key}:${shared.backing.get(key)}`));
    await a.store('k', 'v');
    while (seen.length < 2) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen.sort(), ['a:k:v', 'b:k:v']);
  });

  test('a disposed listener hears nothing more', async () => {
    const shared = createSharedSecrets();
    const a = shared.window();
    let calls = 0;
    a.onDidChange(() => calls++).dispose();
    let done!: () => void;
    const heard = new Promise<void>((resolve) => (done = resolve));
    a.onDidChange(() => done());
    await a.store('k', 'v');
    await heard;
    assert.equal(calls, 0);
  });

  test('reads and writes are counted per window', async () => {
    const shared = createSharedSecrets([['k', 'v']]);
    const a = shared.window();
    const b = shared.window();
    await a.get('k');
    await a.get('k');
    await a.store('k', 'w');
    await b.delete('k');
    assert.deepEqual([a.reads, a.writes, b.reads, b.writes], [2, 1, 0, 1]);
  });
});
