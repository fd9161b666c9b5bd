/**
 * The example jobs, with where each comes from, a ready input and the answer its seed
 * printed. The dashboard's gallery, the tests and the README all read this list; the
 * module sources are the .js files beside it.
 */
import type { InlineJobInput, JobInput, KeyValue } from '../shared/job.ts';
import pyMapReduceStrings from './inputs/pymapreduce-strings.json' with { type: 'json' };
import scoopPairs from './inputs/scoop-pairs.json' with { type: 'json' };

/**
 * An example's input: given whole, or the result of another example run first on its own
 * input (a pipeline: this one is then submitted with `{"kind": "job", "id"}` of that job).
 */
export type ExampleInput = InlineJobInput | { kind: 'result-of'; example: string };

export interface ExampleJob {
  /** Also the module's file name without `.js`. */
  id: string;
  title: string;
  /** One sentence: where the example comes from and what it computes. */
  origin: string;
  input: ExampleInput;
  /** Some [key, value] pairs the result must contain, from the seed's published output. */
  expected?: KeyValue[];
}

// Every page links somewhere (PageRank's dangling pages are left out of the example).
const PAGERANK_WEB = web({
  home: ['about', 'blog', 'shop'],
  about: ['home'],
  blog: ['home', 'post1', 'post2'],
  post1: ['blog', 'post2'],
  post2: ['blog', 'home'],
  shop: ['home', 'about'],
});

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
  {
    id: 'frequency-of-frequencies',
    title: 'Frequencies of frequencies',
    origin:
      "A two-job pipeline: the word count's result is this job's input, and it counts how many words occur once, twice, and so on (Zipf's law as a table, as Good-Turing smoothing starts).",
    input: { kind: 'result-of', example: 'word-count' },
    // The sample's 15 words: 'The', 'the', 'fox' and 'dog' twice each, 7 others once.
    expected: [[1, 7], [2, 4]],
  },
  {
    id: 'pagerank',
    title: 'PageRank, one iteration',
    origin:
      "The MapReduce paper's PageRank on a small web of 6 pages: one step of the power method; submit it again on its own result (a job input) until the ranks stop moving.",
    input: { kind: 'records', records: PAGERANK_WEB },
  },
];

/** The pages of the PageRank example and their links, each starting at rank 1/6. */
function web(links: Record<string, string[]>): [string, { rank: number; links: string[]; pages: number }][] {
  const pages = Object.keys(links).length;
  return Object.entries(links).map(([page, targets]) => [page, { rank: 1 / pages, links: targets, pages }]);
}


/**
 * An example's input as `POST /api/jobs` takes it. For a pipeline's second step, its first
 * step is submitted first, by `submitExample` (which answers the new job's id), and that
 * job's result is the input.
 */
export async function apiInputOf(input: ExampleInput, submitExample: (example: ExampleJob, input: JobInput) => Promise<string>): Promise<JobInput> {
  if (input.kind !== 'result-of') return input;
  const { example: upstreamId } = input;
  const upstream = EXAMPLES.find((example) => example.id === upstreamId);
  if (!upstream) throw new Error(`the example ${upstreamId}, whose result this one reads, is missing`);
  return { kind: 'job', id: await submitExample(upstream, await apiInputOf(upstream.input, submitExample)) };
}
