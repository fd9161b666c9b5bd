import { describe, expect, it } from 'vitest';
import { joinJsonArray, packParts, unpackParts } from './byte-packing.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('packParts / unpackParts', () => {
  it('round-trips parts, empty ones included', () => {
    const parts = ['[["a",[1]]]', '', '[]', '[["é😀",[2,3]]]'].map(utf8);
    const { bytes, offsets } = packParts(parts);
    expect(offsets).toHaveLength(parts.length + 1);
    expect(unpackParts(bytes, offsets).map(text)).toEqual(parts.map(text));
  });

  it.each([
    ['offsets that do not start at 0', [1, 3]],
    ['offsets that do not end at the length', [0, 2]],
    ['decreasing offsets', [0, 3, 1, 3]],
    ['fractional offsets', [0, 1.5, 3]],
    ['no offsets', []],
  ])('refuses %s', (_name, offsets) => {
    expect(() => unpackParts(utf8('abc'), offsets)).toThrow(RangeError);
  });
});

describe('joinJsonArray', () => {
  it.each([[[]], [['1']], [['[]', '{"a":1}', '"x"']]])('joins %j into a JSON array', (values) => {
    expect(JSON.parse(text(joinJsonArray(values.map(utf8))))).toEqual(values.map((value) => JSON.parse(value)));
  });
});
