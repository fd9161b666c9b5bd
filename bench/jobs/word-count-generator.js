// examples/word-count.js in the generator form, for bench/word-count.ts: the same words and
// the same answer, each pair yielded as a [word, 1] array, the way the README's program
// example and the seeds write a map. The gallery keeps the emit form, which is faster; the
// bench measures both, against the same modules run in bare workers.
const WORD = /\p{L}+/gu;

export function* map(fileName, text) {
  for (const [word] of text.matchAll(WORD)) yield [word, 1];
}

export function reduce(word, counts) {
  let total = 0;
  for (const count of counts) total += count;
  return total;
}

export const combine = reduce;
