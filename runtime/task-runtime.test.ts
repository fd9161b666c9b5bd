import { describe, expect, test } from 'vitest';
import { unpackParts } from '../shared/byte-packing.ts';
import type { KeyValue, MapTaskInput, PartitionBlock } from '../shared/job.ts';
import type { Key } from '../shared/keys.ts';
import { LIMITS } from '../shared/limits.ts';
import { partitionOf } from '../shared/partition.ts';
import type { MapInputPayload } from '../shared/protocol.ts';
import { toMapInputPayload } from '../shared/map-input-payload.ts';
import { runMapTask, runMapTaskPacked, runReduceTask, toJobModule, toTaskError, type JobModule } from './task-runtime.ts';

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const decode = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;
const mapInput = (input: MapTaskInput): MapInputPayload => toMapInputPayload(input);

const sum = (_key: Key, values: unknown[]): number => (values as number[]).reduce((a, b) => a + b, 0);

/** The design's word count, written as a module namespace would look. */
const wordCount: JobModule = {
  *map(_key, value) {
    for (const word of String(value).split(/[^\p{L}]+/u)) if (word) yield [word.toLowerCase(), 1];
  },
  reduce: sum,
};
const wordCountWithCombine: JobModule = { ...wordCount, combine: sum };

const texts: [Key, unknown][] = [
  ['a.txt', 'the quick brown fox jumps over the lazy dog\nThe end'],
  ['b.txt', 'a dog, a fox; the dog again'],
];

/** Runs a whole job in-process: one map task per record, then one reduce task per partition. */
function runJob(module: JobModule, records: [Key, unknown][], partitions: number): KeyValue[] {
  const mapOutputs = records.map((record) => runMapTask(module, mapInput({ kind: 'records', records: [record] }), partitions));
  const result: KeyValue[] = [];
  for (let p = 0; p < partitions; p++) {
    result.push(...decode<KeyValue[]>(runReduceTask(module, mapOutputs.map((blocks) => blocks[p]!))));
  }
  return result.sort(([a], [b]) => (String(a) < String(b) ? -1 : 1));
}

describe('runMapTask', () => {
  test('word count with and without combine gives the same result', () => {
    for (const partitions of [1, 3, 7]) {
      const plain = runJob(wordCount, texts, partitions);
      const combined = runJob(wordCountWithCombine, texts, partitions);
      expect(combined).toEqual(plain);
      expect(Object.fromEntries(plain as [string, number][])).toMatchObject({ the: 4, dog: 3, a: 2, fox: 2, end: 1 });
    }
  });

  test('combine folds a frequent key as its values arrive, and the total stays exact', () => {
    const calls: number[] = [];
    const counting: JobModule = {
      ...wordCountWithCombine,
      combine: (key, values) => {
        calls.push(values.length);
        return sum(key, values);
      },
    };
    const text = 'tick '.repeat(1000);
    const [block] = runMapTask(counting, mapInput({ kind: 'text', key: 'clock.txt', text }), 1);
    expect(decode<PartitionBlock>(block!)).toEqual([['tick', [1000]]]);
    // Folded in passes of a few hundred values, each pass taking the previous partial sum.
    expect(calls.length).toBeGreaterThan(1);
    expect(Math.max(...calls)).toBeLessThanOrEqual(256);
  });

  test('combine pre-aggregates each key to one value', () => {
    const [block] = runMapTask(wordCountWithCombine, mapInput({ kind: 'records', records: texts }), 1);
    const entries = decode<PartitionBlock>(block!);
    expect(entries.find(([key]) => key === 'the')).toEqual(['the', [4]]);
    expect(entries.every(([, values]) => values.length === 1)).toBe(true);
  });

  test('returns exactly R blocks and every key lands in partitionOf(key, R)', () => {
    const partitions = 5;
    const blocks = runMapTask(wordCount, mapInput({ kind: 'records', records: texts }), partitions);
    expect(blocks).toHaveLength(partitions);
    const seen = new Set<string>();
    blocks.forEach((bytes, partition) => {
      for (const [key, values] of decode<PartitionBlock>(bytes)) {
        expect(partitionOf(key, partitions)).toBe(partition);
        expect(values.length).toBeGreaterThan(0);
        seen.add(String(key));
      }
    });
    expect(seen).toContain('quick');
  });

  test('runMapTaskPacked packs the R blocks as the wire carries them', () => {
    const input = mapInput({ kind: 'records', records: texts });
    const blocks = runMapTask(wordCount, input, 4);
    const packed = runMapTaskPacked(wordCount, input, 4);
    expect(packed.offsets).toHaveLength(5);
    expect(unpackParts(packed.blocks, packed.offsets)).toEqual(blocks);
  });

  test('empty partitions are encoded as []', () => {
    const blocks = runMapTask(wordCount, mapInput({ kind: 'records', records: [['x', 'solo']] }), 4);
    const texts = blocks.map((bytes) => new TextDecoder().decode(bytes));
    expect(texts.filter((text) => text === '[]')).toHaveLength(3);
    expect(texts.find((text) => text !== '[]')).toBe('[["solo",[1]]]');
  });

  test('range input maps records [i, i] for from <= i < to', () => {
    const squares: JobModule = {
      *map(key, value) {
        yield [(key as number) % 2 === 0 ? 'even' : 'odd', (value as number) ** 2];
      },
      reduce: sum,
    };
    const [block] = runMapTask(squares, mapInput({ kind: 'range', from: 3, to: 7 }), 1);
    expect(decode<PartitionBlock>(block!)).toEqual([
      ['odd', [9, 25]],
      ['even', [16, 36]],
    ]);
  });

  test('number, boolean and array keys group by value', () => {
    const module: JobModule = {
      *map(_key, value) {
        const key = [value as number, 'x'];
        yield [key, 1];
        key[0] = -1; // reusing the array after yielding must not move the filed key
        yield [[value as number, 'x'], 2];
        yield [value as number, 3];
        yield [true, 4];
      },
      reduce: sum,
    };
    const [block] = runMapTask(module, mapInput({ kind: 'records', records: [['r', 1]] }), 1);
    expect(decode<PartitionBlock>(block!)).toEqual([
      [[1, 'x'], [1, 2]],
      [1, [3]],
      [true, [4]],
    ]);
  });

  test('number keys group by value: -0 and 0 are one key, kept as first seen; 1 and "1" stay apart', () => {
    const module: JobModule = {
      *map() {
        yield [-0, 'a'];
        yield ['1', 'b'];
        yield [0, 'c'];
        yield [1, 'd'];
        yield [1.5, 'e'];
        yield [1, 'f'];
      },
      reduce: sum,
    };
    const [block] = runMapTask(module, mapInput({ kind: 'records', records: [['r', 1]] }), 1);
    expect(new TextDecoder().decode(block)).toBe('[["1",["b"]],[0,["a","c"]],[1,["d","f"]],[1.5,["e"]]]');
  });

  test('a block lists string keys first, then the others in the order first seen, whatever their type', () => {
    const module: JobModule = {
      map(_key, _value, emit) {
        emit(2, 1);
        emit('b', 1);
        emit([1, 'x'], 1);
        emit(true, 1);
        emit('a', 1);
        emit(2, 1);
        emit([1, 'x'], 1);
        emit(1, 1);
      },
      reduce: sum,
    };
    const [block] = runMapTask(module, mapInput({ kind: 'records', records: [['r', 1]] }), 1);
    expect(decode<PartitionBlock>(block!)).toEqual([
      ['b', [1]],
      ['a', [1]],
      [2, [1, 1]],
      [[1, 'x'], [1, 1]],
      [true, [1]],
      [1, [1]],
    ]);
  });

  test('combine sees every value in order, folded every 256 as a plain list would be, however the values repeat', () => {
    // A stream of runs and changes: -0 beside 0, NaN, one object twice, strings, a fold's own output.
    const shared = { n: 1 };
    const pattern: unknown[] = [1, 1, 1, 0, -0, -0, 0, Number.NaN, Number.NaN, 'x', 'x', shared, shared, { n: 1 }, null, true, 1];
    const stream = Array.from({ length: 1500 }, (_, i) => (i % 97 < 60 ? 1 : pattern[i % pattern.length]));
    const calls: unknown[][] = [];
    const recording: JobModule = {
      map(_key, _value, emit) {
        for (const value of stream) emit('k', value);
      },
      reduce: sum,
      combine: (_key, values) => {
        calls.push([...values]);
        return `fold ${calls.length}`;
      },
    };
    const [block] = runMapTask(recording, mapInput({ kind: 'records', records: [['r', 1]] }), 1);

    // The model: one plain list, folded when it reaches 256 values and once at the end.
    const expected: unknown[][] = [];
    let list: unknown[] = [];
    for (const value of stream) {
      list.push(value);
      if (list.length >= 256) {
        expected.push(list);
        list = [`fold ${expected.length}`];
      }
    }
    expected.push(list);
    expect(calls.length).toBe(expected.length);
    calls.forEach((values, i) => {
      expect(values.length).toBe(expected[i]!.length);
      values.forEach((value, j) => expect(Object.is(value, expected[i]![j])).toBe(true));
    });
    expect(decode<PartitionBlock>(block!)).toEqual([['k', [`fold ${expected.length}`]]]);
  });

  test('without combine, every value goes out in order, repeated or not', () => {
    const values = [1, 1, 2, 2, 2, -0, 0, 'x', 'x', 1];
    const module: JobModule = { *map() { for (const value of values) yield ['k', value]; }, reduce: sum };
    const [block] = runMapTask(module, mapInput({ kind: 'records', records: [['r', 1]] }), 1);
    expect(new TextDecoder().decode(block)).toBe('[["k",[1,1,2,2,2,0,0,"x","x",1]]]');
  });

  test('a map that returns an array of pairs works too', () => {
    const module: JobModule = { map: (key, value) => [[key, value]], reduce: sum };
    const [block] = runMapTask(module, mapInput({ kind: 'records', records: [['k', 2]] }), 1);
    expect(decode<PartitionBlock>(block!)).toEqual([['k', [2]]]);
  });
});

describe('runReduceTask', () => {
  test('merges values across blocks in block order, reduces once per key and sorts keys', () => {
    const calls: [Key, unknown[]][] = [];
    const module: JobModule = {
      map: () => [],
      reduce(key, values) {
        calls.push([key, [...values]]);
        return values.join('+');
      },
    };
    const blocks = [
      encode([['b', ['b1']], [10, ['n1']], [[2, 'a'], ['arr1']], [false, ['f']]]),
      encode([]),
      encode([[2, ['two']], ['b', ['b2', 'b3']], [[2], ['short']], [[2, 'a'], ['arr2']], ['A', ['cap']]]),
    ];
    const pairs = decode<KeyValue[]>(runReduceTask(module, blocks));
    expect(pairs).toEqual([
      [false, 'f'],
      [2, 'two'],
      [10, 'n1'],
      ['A', 'cap'],
      ['b', 'b1+b2+b3'],
      [[2], 'short'],
      [[2, 'a'], 'arr1+arr2'],
    ]);
    expect(calls).toHaveLength(7);
    expect(calls.find(([key]) => key === 'b')).toEqual(['b', ['b1', 'b2', 'b3']]);
  });

  test('no blocks, or only empty ones, give []', () => {
    expect(new TextDecoder().decode(runReduceTask(wordCount, []))).toBe('[]');
    expect(new TextDecoder().decode(runReduceTask(wordCount, [encode([]), encode([])]))).toBe('[]');
  });

  test('accepts the wire form: one UTF-8 JSON array of blocks', () => {
    const wire = encode([[['b', [1]], ['a', [1]]], [], [['a', [2]]]]);
    expect(decode<KeyValue[]>(runReduceTask(wordCount, wire))).toEqual([['a', 3], ['b', 1]]);
    expect(() => runReduceTask(wordCount, encode({ not: 'blocks' }))).toThrow(/not an array of partition blocks/);
  });

  test('accepts ArrayBuffer blocks as browsers receive them', () => {
    const bytes = encode([['k', [1, 2]]]);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    expect(decode<KeyValue[]>(runReduceTask(wordCount, [buffer]))).toEqual([['k', 3]]);
  });
});

describe('the emit form', () => {
  const emitting: JobModule = {
    map(_key, value, emit) {
      for (const word of String(value).split(/[^\p{L}]+/u)) if (word) emit(word.toLowerCase(), 1);
    },
    reduce: sum,
  };

  test('gives the same result as the generator form, with and without combine', () => {
    for (const partitions of [1, 4]) {
      expect(runJob(emitting, texts, partitions)).toEqual(runJob(wordCount, texts, partitions));
      expect(runJob({ ...emitting, combine: sum }, texts, partitions)).toEqual(runJob(wordCount, texts, partitions));
    }
  });

  test('a map that takes emit may produce nothing for a record', () => {
    const filtering: JobModule = { map: (_key, _value, _emit) => undefined, reduce: sum };
    expect(runMapTask(filtering, mapInput({ kind: 'records', records: [['k', 'v']] }), 2).map((block) => decode<PartitionBlock>(block))).toEqual([[], []]);
  });

  test('a generator may also call emit; both kinds of pair count', () => {
    const both: JobModule = {
      *map(_key, _value, emit) {
        emit('a', 1);
        yield ['a', 2];
      },
      reduce: sum,
    };
    expect(runJob(both, [['k', 'v']], 1)).toEqual([['a', 3]]);
  });

  test('a bad emitted pair is a TypeError naming the record and the pair, even if the job catches nothing', () => {
    const bad: JobModule = {
      map(_key, _value, emit) {
        emit('fine', 1);
        emit({ not: 'a key' } as unknown as Key, 1);
      },
      reduce: sum,
    };
    const run = () => runMapTask(bad, mapInput({ kind: 'records', records: [['doc-7', 'v']] }), 1);
    expect(run).toThrow(TypeError);
    expect(run).toThrow(/^map of record #0 \(key "doc-7"\) emitted a bad pair #1: the key \{"not":"a key"\} is not a valid key/);
  });

  test('a key longer than the coordinator takes fails the task and says so', () => {
    const huge: JobModule = { map: (_key, _value, emit) => emit('k'.repeat(70_000), 1), reduce: sum };
    expect(() => runMapTask(huge, mapInput({ kind: 'records', records: [['doc', 'v']] }), 1)).toThrow(/key of 70000 characters .* at most 65536/);
  });

  test('a value JSON cannot carry is refused where it was emitted', () => {
    const bad: JobModule = { map: (_key, _value, emit) => emit('k', () => 1), reduce: sum };
    expect(() => runMapTask(bad, mapInput({ kind: 'records', records: [['doc-7', 'v']] }), 1)).toThrow(/map of record #0 \(key "doc-7"\) emitted a value for key "k" that JSON cannot carry/);
  });

  test('emit kept and called after map returned is refused', () => {
    let kept: ((key: Key, value: unknown) => void) | undefined;
    const keeping: JobModule = {
      map(key, _value, emit) {
        kept?.('late', 1);
        kept = emit;
        emit(key, 1);
      },
      reduce: sum,
    };
    expect(() => runMapTask(keeping, mapInput({ kind: 'records', records: [['a', 1], ['b', 2]] }), 1)).toThrow(/map of record #0 \(key "a"\) called emit after it returned/);
  });

  test('a throw in job code that takes emit keeps its name and says where', () => {
    const failing: JobModule = {
      map(_key, _value, emit) {
        emit('ok', 1);
        throw new RangeError('boom');
      },
      reduce: sum,
    };
    expect(() => runMapTask(failing, mapInput({ kind: 'records', records: [['doc', 'v']] }), 1)).toThrow('boom (in map of record #0 (key "doc"))');
  });
});

describe('errors', () => {
  const oneRecord = mapInput({ kind: 'records', records: [['doc-7', 'text']] });
  const run = (map: JobModule['map']) => () => runMapTask({ map, reduce: sum }, oneRecord, 2);

  test.each([
    ['not an array', function* () { yield 'word'; }, /yielded a bad pair #0: .*got "word" \(not an array\)/],
    ['wrong length', function* () { yield ['a', 1, 2]; }, /array of length 3/],
    ['null key', function* () { yield [null, 1]; }, /the key null is not a valid key/],
    ['object key', function* () { yield [{ a: 1 }, 1]; }, /the key \{"a":1\} is not a valid key/],
    ['NaN key', function* () { yield [Number.NaN, 1]; }, /the key NaN is not a valid key/],
    ['undefined value', function* () { yield ['k', undefined]; }, /value for key "k" is undefined/],
  ])('a bad pair (%s) is a TypeError naming the record', (_what, map, message) => {
    expect(run(map as JobModule['map'])).toThrow(TypeError);
    expect(run(map as JobModule['map'])).toThrow(message);
    expect(run(map as JobModule['map'])).toThrow('map of record #0 (key "doc-7")');
  });

  test('the second bad pair is counted', () => {
    expect(
      run(function* () {
        yield ['ok', 1];
        yield ['bad'];
      }),
    ).toThrow('yielded a bad pair #1');
  });

  test('a map that returns no iterable says what to do', () => {
    expect(run(() => 42 as unknown as Iterable<unknown>)).toThrow(/returned 42; map must return an iterable.*generator/);
    expect(run(() => undefined as unknown as Iterable<unknown>)).toThrow(/returned undefined/);
  });

  test('a throw in map keeps its name and stack and says where it happened', () => {
    const failing = run(function* () {
      yield ['fine', 1];
      throw new RangeError('boom in user code');
    });
    expect(failing).toThrow('boom in user code (in map of record #0 (key "doc-7"))');
    try {
      failing();
    } catch (error) {
      const reported = toTaskError(error);
      expect(reported.name).toBe('RangeError');
      expect(reported.stack).toContain('boom in user code');
    }
  });

  test('a throw before the generator starts, and a thrown non-error, are reported', () => {
    expect(
      run(() => {
        throw new Error('eager');
      }),
    ).toThrow('eager (in map of record #0');
    expect(
      run(function* () {
        throw 'just a string';
      }),
    ).toThrow('just a string (in map');
  });

  test('a throw in combine or reduce names the key', () => {
    const combineThrows: JobModule = {
      ...wordCount,
      combine: (key) => {
        throw new Error(`no combining ${String(key)}`);
      },
    };
    expect(() => runMapTask(combineThrows, oneRecord, 1)).toThrow('no combining text (in combine of key "text")');
    const reduceThrows: JobModule = {
      ...wordCount,
      reduce: () => {
        throw new TypeError('bad reduce');
      },
    };
    expect(() => runReduceTask(reduceThrows, [encode([['k', [1]]])])).toThrow('bad reduce (in reduce of key "k")');
  });

  test('reduce or combine returning undefined is an error', () => {
    const forgot: JobModule = { ...wordCount, reduce: () => undefined };
    expect(() => runReduceTask(forgot, [encode([['k', [1]]])])).toThrow(/reduce of key "k" returned undefined/);
    const forgotCombine: JobModule = { ...wordCount, combine: () => undefined };
    expect(() => runMapTask(forgotCombine, oneRecord, 1)).toThrow(/combine of key "text" returned undefined/);
  });

  // JSON.stringify throws on BigInts and cycles but silently nulls or drops functions,
  // symbols, Maps and Sets: every one must fail the task, naming where it came from.
  const fn = function handler() {};
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  test.each<[string, unknown, RegExp]>([
    ['a function', fn, /a function \(handler\)/],
    ['a BigInt', 10n, /a BigInt \(10n\)/],
    ['a cycle', cycle, /a cycle at \.self/],
    ['a symbol inside an array', [Symbol('s')], /a symbol at \[0\]/],
    ['a Map', new Map(), /a Map/],
  ])('a value holding %s is refused where the job produced it', (_, bad, problem) => {
    const yields: JobModule = {
      *map() {
        yield ['fine', 1];
        yield ['bad', bad];
      },
      reduce: sum,
    };
    expect(() => runMapTask(yields, oneRecord, 1)).toThrow(
      new RegExp(`^map of record #0 \\(key "doc-7"\\) yielded a value for key "bad" that JSON cannot carry: ${problem.source}.*values must be plain JSON data`),
    );
    const combines: JobModule = { ...wordCount, combine: () => bad };
    expect(() => runMapTask(combines, oneRecord, 1)).toThrow(new RegExp(`^combine of key "\\w+" returned a value that JSON cannot carry: ${problem.source}`));
    const reduces: JobModule = { ...wordCount, reduce: () => bad };
    expect(() => runReduceTask(reduces, [encode([['k', [1]]])])).toThrow(
      new RegExp(`^reduce of key "k" returned a value that JSON cannot carry: ${problem.source}`),
    );
  });

  test('a getter that throws while a value is read is reported as job code failing', () => {
    const hostile: JobModule = {
      ...wordCount,
      reduce: () => ({
        get total(): number {
          throw new RangeError('no total today');
        },
      }),
    };
    expect(() => runReduceTask(hostile, [encode([['k', [1]]])])).toThrow('no total today (in reduce of key "k", in a getter of the value it returned)');
  });

  test('what JSON.stringify still refuses is reported with the key', () => {
    const refuses: JobModule = {
      ...wordCount,
      reduce: () => ({
        toJSON() {
          throw new Error('not today');
        },
      }),
    };
    expect(() => runReduceTask(refuses, [encode([['k', [1]]])])).toThrow(/reduce output cannot be encoded as JSON \(the value for key "k"\): not today/);
  });

  test('malformed task input is refused clearly', () => {
    expect(() => runMapTask(wordCount, { format: 'json', bytes: encode({ kind: 'lines' }) }, 1)).toThrow(/map task input is neither/);
    expect(() => runMapTask(wordCount, { format: 'json', bytes: new TextEncoder().encode('{nope') }, 1)).toThrow(/map task input is not valid UTF-8 JSON/);
    expect(() => runMapTask(wordCount, oneRecord, 0)).toThrow(/partitions >= 1/);
    expect(() => runReduceTask(wordCount, [encode([['k', 1]])])).toThrow(/block #0 entry #0 is not a \[key, values\[\]\] pair/);
  });
});

describe('toJobModule', () => {
  test('accepts map and reduce, with or without combine', () => {
    const namespace = { map: wordCount.map, reduce: sum, other: 1 };
    expect(toJobModule(namespace)).toEqual({ map: wordCount.map, reduce: sum });
    expect(toJobModule({ ...namespace, combine: sum }).combine).toBe(sum);
  });

  test('names what is missing or wrong', () => {
    expect(() => toJobModule({ reduce: sum })).toThrow(/must export a function `map`.*is missing/);
    expect(() => toJobModule({ map: wordCount.map, reduce: 3 })).toThrow(/`reduce` is a number \(3\)/);
    expect(() => toJobModule({ map: wordCount.map, reduce: sum, combine: 'sum' })).toThrow(/`combine` export must be a function/);
    expect(() => toJobModule(null)).toThrow(TypeError);
  });
});

describe('toTaskError', () => {
  test('keeps name, message and stack of errors', () => {
    const error = new SyntaxError('bad');
    expect(toTaskError(error)).toEqual({ name: 'SyntaxError', message: 'bad', stack: error.stack });
  });

  test('renders thrown non-errors', () => {
    expect(toTaskError('plain')).toEqual({ name: 'Error', message: 'plain' });
    expect(toTaskError({ code: 1 })).toEqual({ name: 'Error', message: 'a non-error value was thrown: {"code":1}' });
    expect(toTaskError(undefined).message).toContain('undefined');
  });

  test('truncates to the coordinator limits', () => {
    const error = new Error('m'.repeat(LIMITS.errorMessageChars + 50));
    error.stack = 's'.repeat(LIMITS.errorStackChars * 2);
    const reported = toTaskError(error);
    expect(reported.message.length).toBe(LIMITS.errorMessageChars);
    expect(reported.message.endsWith('(truncated)')).toBe(true);
    expect(reported.stack!.length).toBe(LIMITS.errorStackChars);
  });

  test('survives hostile errors', () => {
    const hostile = {
      get message(): string {
        throw new Error('gotcha');
      },
    };
    expect(toTaskError(hostile)).toEqual({ name: 'Error', message: 'an error was thrown that could not be read' });
  });
});
