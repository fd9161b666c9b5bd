/**
 * pyMapReduce's example, character counting, on tabreduce. The seed, in outline:
 *
 *   class CountCharacters(Job):                      // examples/char-count.js
 *       def __init__(self):                          export function* map(key, text) {
 *           self.File = [{'1': 'MapReduce ...'},       for (const character of text) yield [character, 1];
 *                        ...]                        }
 *       def map(self, key, value): ...               export function reduce(character, counts) {...}
 *       def reduce(self, key, values):               export const combine = reduce;
 *           return sum(values)
 *   job = CountCharacters()                          const counts = await submit(
 *   job.run()                                          { module: '../char-count.js', input: the seven strings }, { url })
 *                                                    console.log(pythonDict(counts))
 *
 * Prints the dict of the 40 characters and their counts: ' ': 265, 'e': 198, ... 1,780 in all.
 * Run: npx tsx examples/seeds/char-count.ts [--url http://localhost:3000]
 */
import { submit, type JobInput } from 'tabreduce/client';
import pyMapReduceStrings from '../inputs/pymapreduce-strings.json' with { type: 'json' };
import { pythonDict, seedArgs } from './seed-script.ts';

const { url } = seedArgs('char-count.ts [--url URL]');

const counts = await submit(
  { module: new URL('../char-count.js', import.meta.url), input: pyMapReduceStrings as JobInput },
  { url },
);
console.log(pythonDict(counts));
