/** Functions given to submit() become a module that checks, imports and behaves like them. */
import { describe, expect, it } from 'vitest';
import { checkJobSource } from '../shared/job-source.ts';
import { InvalidJobError } from './errors.ts';
import { moduleFromFunctions, type JobFunctions } from './job-source.ts';

async function load(source: string): Promise<Record<string, (...args: unknown[]) => unknown>> {
  return (await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`)) as Record<string, (...args: unknown[]) => unknown>;
}

function* map(file: string, text: string) {
  for (const word of text.split(' ')) yield [word, 1] as const;
}
function reduce(word: string, counts: number[]) {
  return counts.length;
}

const jobObject = {
  *map(key: number, value: number) {
    yield [key % 2, value];
  },
  reduce: (key: number, values: number[]) => Math.max(...values),
};

class JobClass {
  static *map(key: number) {
    yield ['k', key];
  }
  static reduce(key: string, values: number[]) {
    return values.length;
  }
}

describe('moduleFromFunctions', () => {
  it('exports a function named after its export as written: export function* map', async () => {
    const source = moduleFromFunctions({ map, reduce, combine: reduce } as JobFunctions);
    expect(source).toContain(`export ${map.toString()}`);
    expect(source).toContain(`export ${reduce.toString()}`);
    // The same function twice is exported once and aliased, as a hand-written module would.
    expect(source).toContain('export const combine = reduce;');
    expect(checkJobSource(source)).toMatchObject({ ok: true, hasCombine: true });
    const module = await load(source);
    expect([...(module.map!('f', 'a b a') as Iterable<unknown>)]).toEqual([['a', 1], ['b', 1], ['a', 1]]);
    expect(module.combine).toBe(module.reduce);
  });

  it('binds arrows and method shorthand (generator methods included) to their export names', async () => {
    const source = moduleFromFunctions(jobObject as JobFunctions);
    const module = await load(source);
    expect([...(module.map!(3, 7) as Iterable<unknown>)]).toEqual([[1, 7]]);
    expect(module.reduce!(1, [3, 9, 2])).toBe(9);
  });

  it('takes static class methods, and functions whose names differ from their export', async () => {
    const module = await load(moduleFromFunctions({ map: JobClass.map, reduce: JobClass.reduce } as JobFunctions));
    expect([...(module.map!(5) as Iterable<unknown>)]).toEqual([['k', 5]]);
    const renamed = await load(moduleFromFunctions({ map: function* words() { yield ['w', 1]; }, reduce } as JobFunctions));
    expect([...(renamed.map!() as Iterable<unknown>)]).toEqual([['w', 1]]);
  });

  it.each([
    ['a built-in', { map: Math.max, reduce }, '`map` is a built-in or bound function'],
    ['a bound function', { map, reduce: reduce.bind(null) }, '`reduce` is a built-in or bound function'],
    ['an async function', { map: async () => [], reduce }, '`map` is async'],
    ['an async method', { map, async reduce() { return 1; } }, '`reduce` is async'],
    ['a class', { map: class Mapper {}, reduce }, '`map` is a class'],
    ['a getter', { map, combine: Object.getOwnPropertyDescriptor({ get combine() { return 1; } }, 'combine')!.get, reduce }, '`combine` is a getter or setter'],
    ['a missing reduce', { map }, '`reduce` must be a function, got nothing'],
    ['a string', { map: 'function* map() {}', reduce }, '`map` must be a function, got string'],
  ])('refuses %s with a message that says what to do', (_name, functions, message) => {
    const attempt = () => moduleFromFunctions(functions as unknown as JobFunctions);
    expect(attempt).toThrow(InvalidJobError);
    expect(attempt).toThrow(message);
  });
});
