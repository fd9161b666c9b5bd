// An inverted index: for every word (lower-cased), the sorted list of the file names
// that contain it. The input is a set of text files; a record is (file name, text).
const WORD = /\p{L}+/gu;

export function* map(fileName, text) {
  const seen = new Set();
  for (const [word] of text.toLowerCase().matchAll(WORD)) {
    if (!seen.has(word)) {
      seen.add(word);
      yield [word, fileName];
    }
  }
}

// Values are file names (from map) or sorted lists of them (from combine): flatten,
// deduplicate and sort, which is both a valid combiner and the reducer.
export function reduce(word, values) {
  return [...new Set(values.flat())].sort();
}

export const combine = reduce;
