// Frequencies of frequencies: how many words occur once, twice, and so on (Zipf's law in
// a table, and the first step of Good-Turing smoothing). The second job of a pipeline:
// its input is a word count's result, records [word, count], given as
// `{"kind": "job", "id": "<the word count's id>"}`.
export function* map(word, count) {
  yield [count, 1];
}

export function reduce(count, words) {
  let total = 0;
  for (const n of words) total += n;
  return total;
}

export const combine = reduce;
