/**
 * mincemeat.py's first 100 triangular numbers, on tabreduce. The seed, in outline:
 *
 *   def mapfn(k, v):                     // examples/triangular-numbers.js
 *       for i in range(k + 1):           export function* map(k) {
 *           yield k, i                     for (let i = 0; i <= k; i++) yield [k, i];
 *                                        }
 *   def reducefn(k, vs):                 export function reduce(k, values) {
 *       return sum(vs)                     return values.reduce((a, b) => a + b, 0);
 *                                        }
 *   s = mincemeat.Server()
 *   s.datasource = dict(enumerate(range(100)))     input: { kind: 'range', from: 0, to: 100 }
 *   s.mapfn = mapfn; s.reducefn = reducefn         module: '../triangular-numbers.js'
 *   results = s.run_server(password="changeme")   await submit({ module, input }, { url, token })
 *   print(results)                                  console.log(pythonDict(results))
 *
 * Prints {0: 0, 1: 1, 2: 3, ..., 99: 4950}.
 * Run: npx tsx examples/seeds/triangular-numbers.ts [--url http://localhost:3000]
 */
import { submit } from 'tabreduce/client';
import { pythonDict, seedArgs } from './seed-script.ts';

const { url } = seedArgs('triangular-numbers.ts [--url URL]');

const results = await submit(
  { module: new URL('../triangular-numbers.js', import.meta.url), input: { kind: 'range', from: 0, to: 100 } },
  { url },
);
console.log(pythonDict(results));
