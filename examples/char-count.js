// Character count, from pyMapReduce's example: how often each character occurs in a
// set of strings. Every character counts, spaces and punctuation included, case kept.

export function* map(key, text) {
  for (const character of text) yield [character, 1];
}

export function reduce(character, counts) {
  return counts.reduce((a, b) => a + b, 0);
}

export const combine = reduce;
