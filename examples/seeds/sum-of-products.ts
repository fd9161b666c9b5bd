/**
 * SCOOP's `futures.mapReduce` example on tabreduce. The seed:
 *
 *   def manipulateData(inData):                   // examples/sum-of-products.js
 *       return inData[0] * inData[1]              export function* map(i, j) { yield ['sum', i * j]; }
 *                                                 export function reduce(key, values) { return sum of values }
 *   result = futures.mapReduce(manipulateData,    const [[, result]] = await submit(
 *       operator.add,                               { module: '../sum-of-products.js',
 *       zip(range(1, 101), range(101, 201)))          input: the records [i, 100 + i], i = 1..100 }, { url })
 *   print(result)                                 console.log(result)
 *
 * Prints 843350. (sum-of-sums.ts is the tutorial's variant, which adds: 20100.)
 * Run: npx tsx examples/seeds/sum-of-products.ts [--url http://localhost:3000]
 */
import { submit } from 'tabreduce/client';
import { seedArgs } from './seed-script.ts';

const { url } = seedArgs('sum-of-products.ts [--url URL]');

// zip(range(1, 101), range(101, 201)): the pairs (i, 100 + i).
const pairs = Array.from({ length: 100 }, (_, n): [number, number] => [n + 1, n + 101]);
const [[, result]] = (await submit(
  { module: new URL('../sum-of-products.js', import.meta.url), input: { kind: 'records', records: pairs } },
  { url },
)) as [[string, number]];
console.log(result);
