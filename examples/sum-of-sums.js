// The variant SCOOP's tutorial actually prints: mapping each pair (i, 100 + i),
// i = 1..100, with addition instead of multiplication gives 20100.

export function* map(i, j) {
  yield ['sum', i + j];
}

export function reduce(key, values) {
  return values.reduce((a, b) => a + b, 0);
}

export const combine = reduce;
