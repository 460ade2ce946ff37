import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeDuration } from '../../src/oauth/duration.js';

test('describeDuration: as people say it, and a sub-second wait is never "0 s"', () => {
  assert.deepEqual([300, 999, 1000, 1499, 30_000, 60_000, 300_000].map(describeDuration), ['300 ms', '999 ms', '1 s', '1 s', '30 s', '60 s', '5 minutes']);
});
