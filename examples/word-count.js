// Word count: the "hello world" of MapReduce, as in mincemeat.py's and PyMOTW's examples.
// A word is a run of Unicode letters; case is kept, so "The" and "the" are counted apart.
const WORD = /\p{L}+/gu;

// The emit form: map calls emit(key, value) for each pair instead of yielding [key, value]
// (`export function* map(fileName, text) { for (const [w] of text.matchAll(WORD)) yield [w, 1]; }`
// gives the same answer). With no pair array per word it is about 1.25 times faster in Node
// (a little in Chromium), which matters when a map sees millions of words. RegExp#exec in a loop, rather than matchAll,
// saves the iterator too.
export function map(fileName, text, emit) {
  WORD.lastIndex = 0;
  let match;
  while ((match = WORD.exec(text)) !== null) emit(match[0], 1);
}

export function reduce(word, counts) {
  let total = 0;
  for (const count of counts) total += count;
  return total;
}

// Counting is associative, so each map task pre-sums its own words before they travel.
export const combine = reduce;
