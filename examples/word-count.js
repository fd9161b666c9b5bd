// Word count: the "hello world" of MapReduce, as in mincemeat.py's and PyMOTW's examples.
// A word is a run of Unicode letters; case is kept, so "The" and "the" are counted apart.
const WORD = /\p{L}+/gu;

export function* map(fileName, text) {
  for (const [word] of text.matchAll(WORD)) yield [word, 1];
}

export function reduce(word, counts) {
  let total = 0;
  for (const count of counts) total += count;
  return total;
}

// Counting is associative, so each map task pre-sums its own words before they travel.
export const combine = reduce;
