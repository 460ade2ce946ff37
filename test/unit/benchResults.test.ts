// `npm run bench -- --only <section>` rewrites bench/results/bench.json: the sections that ran
// replace their figures, the others keep theirs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeResults } from '../../bench/results.js';

const figure = (name: string, value: number) => ({ name, value, unit: 'ms' });

describe('bench results', () => {
  it('a run of one section keeps every other section as it was', () => {
    const full = mergeResults(undefined, { at: 'T1', node: 'v20', sections: { bundle: [figure('bundle size', 1)], terminal: [figure('terminal: token', 30)] } });
    const onlyTerminal = mergeResults(JSON.parse(JSON.stringify(full)), { at: 'T2', node: 'v20', sections: { terminal: [figure('terminal: token', 28)] } });
    assert.deepEqual(onlyTerminal.sections.bundle, { at: 'T1', node: 'v20', figures: [figure('bundle size', 1)] });
    assert.deepEqual(onlyTerminal.sections.terminal, { at: 'T2', node: 'v20', figures: [figure('terminal: token', 28)] });
    assert.deepEqual(onlyTerminal.figures, [{ section: 'bundle', ...figure('bundle size', 1) }, { section: 'terminal', ...figure('terminal: token', 28) }]);
    assert.equal(onlyTerminal.at, 'T2');
  });

  it('a file from before sections were recorded: its figures kept, except those measured again', () => {
    const old = { at: 'T0', node: 'v20', figures: [figure('bundle size', 1), figure('terminal: token', 30)] };
    const merged = mergeResults(old, { at: 'T2', node: 'v20', sections: { terminal: [figure('terminal: token', 28)] } });
    assert.deepEqual(merged.sections.earlier, { at: 'T0', node: 'v20', figures: [figure('bundle size', 1)] });
    assert.deepEqual(merged.figures.map((entry) => `${entry.section}/${entry.name}=${entry.value}`), ['earlier/bundle size=1', 'terminal/terminal: token=28']);
    assert.deepEqual(Object.keys(mergeResults('not an object', { at: 'T3', node: 'v20', sections: { bundle: [] } }).sections), ['bundle']);
  });
});
