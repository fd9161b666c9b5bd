/**
 * The variant SCOOP's tutorial prints: the pairs of sum-of-products.ts, added instead
 * of multiplied (`return inData[0] + inData[1]`). Prints 20100.
 * Run: npx tsx examples/seeds/sum-of-sums.ts [--url http://localhost:3000]
 */
import { submit } from 'tabreduce/client';
import { seedArgs } from './seed-script.ts';

const { url } = seedArgs('sum-of-sums.ts [--url URL]');

const pairs = Array.from({ length: 100 }, (_, n): [number, number] => [n + 1, n + 101]);
const [[, result]] = (await submit(
  { module: new URL('../sum-of-sums.js', import.meta.url), input: { kind: 'records', records: pairs } },
  { url },
)) as [[string, number]];
console.log(result);
