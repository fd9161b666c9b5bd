/**
 * PyMOTW's word count on `SimpleMapReduce` (multiprocessing_wordcount.py), on
 * tabreduce: the same two functions, the same stop words, the same report. The job is
 * given as functions, as the seed gave its own to `SimpleMapReduce(file_to_words,
 * count_words)`; they travel as source text, so everything they use is inside them
 * (STOP_WORDS is built in the function, not beside it).
 *
 * Differences that the model imposes: map gets a file's text (one split of it) rather
 * than its name, and reduce gets the word and its counts rather than a (word, counts)
 * tuple. Words are ASCII letters, as Python 2's str.isalpha() had it.
 *
 * Run: npx tsx examples/seeds/pymotw-word-count.ts [--url http://localhost:3000] [FILE...]
 * (default: the *.md files at the top of the repo, as the seed read the *.rst files beside it)
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { submit } from 'tabreduce/client';
import { seedArgs } from './seed-script.ts';

const { url, files } = seedArgs('pymotw-word-count.ts [--url URL] [FILE...]');

/** Read a file and return a sequence of (word, occurrences) values. */
function* fileToWords(fileName: string, text: string): Generator<[string, number]> {
  const STOP_WORDS = new Set(['a', 'an', 'and', 'are', 'as', 'be', 'by', 'for', 'if', 'in', 'is', 'it', 'of', 'or', 'py', 'rst', 'that', 'the', 'to', 'with']);
  for (const line of text.split('\n')) {
    if (line.trimStart().startsWith('..')) continue; // Skip rst comment lines
    for (const word of line.replace(/[!-/:-@[-`{-~]/g, ' ').split(/\s+/)) { // Strip punctuation
      const lower = word.toLowerCase();
      if (/^[a-z]+$/.test(lower) && !STOP_WORDS.has(lower)) yield [lower, 1];
    }
  }
}

/** Convert the partitioned data for a word to the number of occurrences. */
function countWords(word: string, occurrences: number[]): number {
  return occurrences.reduce((a, b) => a + b, 0);
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const inputFiles = files.length > 0 ? files : readdirSync(repoRoot).filter((name) => name.endsWith('.md')).map((name) => repoRoot + name);

const wordCounts = (await submit(
  { map: fileToWords, reduce: countWords, combine: countWords, input: { kind: 'paths', paths: inputFiles }, name: 'pymotw word count' },
  { url },
)) as [string, number][];
wordCounts.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));

console.log('\nTOP 20 WORDS BY FREQUENCY\n');
const top20 = wordCounts.slice(0, 20);
const longest = Math.max(...top20.map(([word]) => word.length));
for (const [word, count] of top20) console.log(`${word.padEnd(longest + 1)}: ${String(count).padStart(5)}`);
