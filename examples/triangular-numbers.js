// The first triangular numbers, as in the mincemeat.py example: record k maps to the
// pairs (k, 0), (k, 1), ..., (k, k), and reduce sums them, so key k ends as k(k+1)/2.
// Run it over the range 0..100 (0 <= k < 100): key 99 gives 4950.

export function* map(k) {
  for (let i = 0; i <= k; i++) yield [k, i];
}

export function reduce(k, values) {
  return values.reduce((a, b) => a + b, 0);
}
