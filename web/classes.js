// Map classes: optimal 1-D k-means ("ckmeans", Wang & Song 2011; the exact form of Jenks natural
// breaks) over the values of one level, so that values far apart (19 and 165 members needed) do
// not share a colour and many equal values do not leave classes empty. Plain script: the page
// uses window.PhusoClasses, the tests import it with node.
'use strict';

(function (root) {
  // The k classes (k ≤ distinct values) of sorted `v` minimising the within-class sum of squares.
  // Returns the index where each class starts. O(k n²); n is at most a few thousand areas.
  function ckmeansStarts(v, k) {
    const n = v.length;
    const cost = Array.from({ length: k }, () => new Float64Array(n));
    const from = Array.from({ length: k }, () => new Int32Array(n));
    // Prefix sums give the sum of squares of any run in O(1).
    const s1 = new Float64Array(n + 1);
    const s2 = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) { s1[i + 1] = s1[i] + v[i]; s2[i + 1] = s2[i] + v[i] * v[i]; }
    const ss = (a, b) => { const m = b - a + 1; const s = s1[b + 1] - s1[a]; return s2[b + 1] - s2[a] - (s * s) / m; };
    for (let i = 0; i < n; i++) { cost[0][i] = ss(0, i); from[0][i] = 0; }
    for (let c = 1; c < k; c++) {
      for (let i = c; i < n; i++) {
        let best = Infinity, arg = c;
        for (let j = c; j <= i; j++) {
          const x = cost[c - 1][j - 1] + ss(j, i);
          if (x < best) { best = x; arg = j; }
        }
        cost[c][i] = best; from[c][i] = arg;
      }
    }
    const starts = new Array(k);
    let end = n - 1;
    for (let c = k - 1; c >= 0; c--) { starts[c] = from[c][end]; end = starts[c] - 1; }
    return starts;
  }

  // Breaks for `values` (nulls and non-numbers ignored): { min, max, cuts } where a value x is in
  // class i when cuts[i-1] ≤ x < cuts[i]. At most `k` classes, fewer when there are fewer
  // distinct values. Integer data (counts) gets integer cuts.
  function breaks(values, k = 5) {
    const v = values.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
    if (!v.length) return { min: 0, max: 0, cuts: [] };
    const distinct = [...new Set(v)];
    const classes = Math.min(k, distinct.length);
    if (classes <= 1) return { min: v[0], max: v[v.length - 1], cuts: [] };
    const starts = ckmeansStarts(v, classes);
    const integers = v.every(Number.isInteger);
    const cuts = [];
    for (let c = 1; c < classes; c++) {
      // The cut lies between the last value of class c-1 and the first of class c.
      const lo = v[starts[c] - 1], hi = v[starts[c]];
      const cut = integers ? Math.floor(lo) + 1 : hi;
      if (cut > v[0] && (cuts.length === 0 || cut > cuts[cuts.length - 1])) cuts.push(cut);
    }
    return { min: v[0], max: v[v.length - 1], cuts };
  }

  // The class of x under `br`.
  function classOf(x, br) {
    const i = br.cuts.findIndex((c) => x < c);
    return i < 0 ? br.cuts.length : i;
  }

  const api = { breaks, classOf, ckmeansStarts };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.PhusoClasses = api;
})(typeof window !== 'undefined' ? window : globalThis);
