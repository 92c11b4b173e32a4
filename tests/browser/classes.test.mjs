// The map's class breaks (web/classes.js) on hand-computed cases and against exhaustive search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { breaks, classOf, ckmeansStarts } = require('../../web/classes.js');

test('clear groups are found by hand', () => {
  // Three groups: {1, 2, 3}, {10, 11}, {50}: the cuts fall between them.
  assert.deepEqual(breaks([3, 1, 50, 10, 2, 11], 3), { min: 1, max: 50, cuts: [4, 12] });
  // 19 and 165 members needed do not share a colour.
  const br = breaks([0, 0, 0, 2, 4, 6, 19, 22, 40, 90, 165], 5);
  assert.notEqual(classOf(19, br), classOf(165, br));
  assert.equal(br.cuts.length, 4);
  // Many zeros do not leave empty classes; fewer distinct values give fewer classes.
  assert.deepEqual(breaks([0, 0, 0, 0, 2, 2, 8]), { min: 0, max: 8, cuts: [1, 3] });
  assert.deepEqual(breaks([5, 5, 5]), { min: 5, max: 5, cuts: [] });
  assert.deepEqual(breaks([null, NaN]), { min: 0, max: 0, cuts: [] });
  // Shares (not integers) are cut at the first value of the next class.
  assert.deepEqual(breaks([0.1, 0.12, 0.5, 0.52], 2).cuts, [0.5]);
});

test('ckmeans equals exhaustive search of the splits', () => {
  const sse = (v) => { const m = v.reduce((a, b) => a + b, 0) / v.length; return v.reduce((a, x) => a + (x - m) ** 2, 0); };
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  for (let t = 0; t < 200; t++) {
    const n = 2 + Math.floor(rnd() * 9);
    const v = Array.from({ length: n }, () => Math.floor(rnd() * 100)).sort((a, b) => a - b);
    const k = 1 + Math.floor(rnd() * Math.min(4, n));
    const starts = ckmeansStarts(v, k);
    const cost = (st) => st.reduce((a, s, i) => a + sse(v.slice(s, i + 1 < st.length ? st[i + 1] : n)), 0);
    // Every way of choosing k − 1 split points.
    let best = Infinity;
    const go = (from, left, st) => {
      if (left === 0) { best = Math.min(best, cost([0, ...st])); return; }
      for (let s = from; s <= n - left; s++) go(s + 1, left - 1, [...st, s]);
    };
    go(1, k - 1, []);
    assert.ok(Math.abs(cost(starts) - best) < 1e-9, `${v} k=${k}: ${cost(starts)} vs ${best}`);
  }
});
