/**
 * The example jobs, with where each comes from, a ready input and the answer its seed
 * printed. The dashboard's gallery, the tests and the README all read this list; the
 * module sources are the .js files beside it.
 */
import type { InlineJobInput, KeyValue } from '../shared/job.ts';
import pyMapReduceStrings from './inputs/pymapreduce-strings.json' with { type: 'json' };
import scoopPairs from './inputs/scoop-pairs.json' with { type: 'json' };

export interface ExampleJob {
  /** Also the module's file name without `.js`. */
  id: string;
  title: string;
  /** One sentence: where the example comes from and what it computes. */
  origin: string;
  input: InlineJobInput;
  /** Some [key, value] pairs the result must contain, from the seed's published output. */
  expected?: KeyValue[];
}

const WORD_COUNT_SAMPLE = `The quick brown fox jumps over the lazy dog.
The dog sleeps; the fox runs.
`;

export const EXAMPLES: ExampleJob[] = [
  {
    id: 'word-count',
    title: 'Word count',
    origin: 'The classic MapReduce example, as mincemeat.py and PyMOTW run it: how often each word (a run of letters, case kept) occurs.',
    input: { kind: 'texts', files: [{ name: 'sample.txt', text: WORD_COUNT_SAMPLE }] },
    expected: [['The', 2], ['the', 2], ['fox', 2], ['dog', 2]],
  },
  {
    id: 'char-count',
    title: 'Character count',
    origin: "pyMapReduce's example: every character of its seven strings counted; 40 distinct characters, 1,780 in all.",
    input: pyMapReduceStrings as InlineJobInput,
    expected: [[' ', 265], ['e', 198], ['a', 149], ['t', 122], ['s', 108], ['\u2019', 2], ['q', 1]],
  },
  {
    id: 'triangular-numbers',
    title: 'Triangular numbers',
    origin: "mincemeat.py's example: the first 100 triangular numbers, key k summing 0..k to k(k+1)/2.",
    input: { kind: 'range', from: 0, to: 100 },
    expected: [[0, 0], [1, 1], [10, 55], [99, 4950]],
  },
  {
    id: 'sum-of-products',
    title: 'Sum of products',
    origin: "SCOOP's futures.mapReduce example: the pairs (i, 100 + i) for i = 1..100, multiplied and summed.",
    input: scoopPairs as InlineJobInput,
    expected: [['sum', 843350]],
  },
  {
    id: 'sum-of-sums',
    title: 'Sum of sums',
    origin: "The variant SCOOP's tutorial prints: the same pairs added instead of multiplied.",
    input: scoopPairs as InlineJobInput,
    expected: [['sum', 20100]],
  },
  {
    id: 'inverted-index',
    title: 'Inverted index',
    origin: 'For each word, the sorted list of files that contain it: the search-engine example from the MapReduce paper.',
    input: {
      kind: 'texts',
      files: [
        { name: 'a.txt', text: 'MapReduce runs on tabs.\n' },
        { name: 'b.txt', text: 'Tabs run map and reduce tasks.\n' },
        { name: 'c.txt', text: 'Volunteers open tabs.\n' },
      ],
    },
    expected: [['tabs', ['a.txt', 'b.txt', 'c.txt']], ['map', ['b.txt']], ['mapreduce', ['a.txt']]],
  },
];
