// SCOOP's futures.mapReduce example: map each pair (i, 100 + i), i = 1..100, to its
// product and reduce by addition: 843350. Input records are [i, 100 + i].

export function* map(i, j) {
  yield ['sum', i * j];
}

export function reduce(key, values) {
  return values.reduce((a, b) => a + b, 0);
}

export const combine = reduce;
