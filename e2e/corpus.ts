/**
 * Test text and its reference counts, computed here without any tabreduce code, so the
 * system's answer is checked against something independent.
 */
const WORDS = (
  'the of and to in a is that for it as was with be by on not he I this are or his from at which but have an they you were ' +
  'her she there been one all we their has would when who will more no if out so said what up its about into than them can ' +
  'only other new some could time these two may then do first any my now such like our over man me even most made after also ' +
  'did many before must through back years where much your way well down should because each just those people Mr how too ' +
  'little state good very make world still own see men work long get here between both life being under never day same another ' +
  'know while last might us great old year off come since against go came right used take three café naïve Zürich façade résumé'
).split(' ');

/** A deterministic PRNG (mulberry32), so a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** About `bytes` of English-like prose: capitalised sentences, punctuation, line breaks. */
export function makeProse(bytes: number, seed: number): string {
  const random = seededRandom(seed);
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const words: string[] = [];
    const count = 6 + Math.floor(random() * 10);
    for (let i = 0; i < count; i++) {
      let word = WORDS[Math.floor(random() * WORDS.length)]!;
      if (i === 0) word = word[0]!.toUpperCase() + word.slice(1);
      words.push(word);
    }
    const line = `${words.join(random() < 0.2 ? ', ' : ' ')}${random() < 0.5 ? '.' : ';'} ${Math.floor(random() * 1000)}`;
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** Word counts the plain way: one Map, one pass, the job's tokenizer (runs of letters, case kept). */
export function referenceWordCount(texts: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of text.match(/\p{L}+/gu) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}
