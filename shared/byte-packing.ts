/**
 * Packing several binary parts into one buffer. Socket.IO sends each binary value as a
 * separate attachment and refuses packets with more than 10, so a message carries one
 * buffer however many partitions or map tasks it covers.
 */

/** Concatenates parts; `offsets[i]..offsets[i+1]` is part i (offsets has parts + 1 entries). */
export function packParts(parts: readonly Uint8Array[]): { bytes: Uint8Array; offsets: number[] } {
  const offsets = [0];
  for (const part of parts) offsets.push(offsets[offsets.length - 1]! + part.length);
  const bytes = new Uint8Array(offsets[offsets.length - 1]!);
  parts.forEach((part, i) => bytes.set(part, offsets[i]!));
  return { bytes, offsets };
}

/** Binary as a Uint8Array: itself, or a view of the whole ArrayBuffer (no copy). */
export const toUint8Array = (bytes: ArrayBuffer | Uint8Array): Uint8Array => (bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));

/**
 * Throws a RangeError unless `offsets` describe a buffer of `length` bytes exactly: from 0
 * to `length`, whole numbers, never decreasing (they come from untrusted volunteers).
 */
export function checkOffsets(length: number, offsets: readonly number[]): void {
  if (offsets.length === 0 || offsets[0] !== 0 || offsets[offsets.length - 1] !== length) {
    throw new RangeError(`offsets must run from 0 to the buffer length ${length}`);
  }
  for (let i = 0; i + 1 < offsets.length; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    if (!Number.isInteger(start) || !Number.isInteger(end) || end < start) throw new RangeError(`offsets must not decrease (at ${i})`);
  }
}

/** Views into a packed buffer, without copying; throws as `checkOffsets` does. */
export function unpackParts(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  checkOffsets(bytes.length, offsets);
  const parts: Uint8Array[] = [];
  for (let i = 0; i + 1 < offsets.length; i++) parts.push(bytes.subarray(offsets[i]!, offsets[i + 1]!));
  return parts;
}

const OPEN = 0x5b; // [
const COMMA = 0x2c; // ,
const CLOSE = 0x5d; // ]

/** Joins UTF-8 JSON values into the UTF-8 JSON of an array of them, without decoding any. */
export function joinJsonArray(values: readonly Uint8Array[]): Uint8Array {
  const length = values.reduce((sum, value) => sum + value.length, 0) + Math.max(1, values.length) + 1;
  const out = new Uint8Array(length);
  let at = 0;
  out[at++] = OPEN;
  values.forEach((value, i) => {
    if (i > 0) out[at++] = COMMA;
    out.set(value, at);
    at += value.length;
  });
  out[at++] = CLOSE;
  return out.subarray(0, at);
}

/** Whether an encoded partition block is the empty one, `[]`, as the task runtime writes it: the store keeps none, and a local run drops them alike. */
export function isEmptyBlock(block: Uint8Array): boolean {
  return block.length === 2 && block[0] === 0x5b && block[1] === 0x5d;
}
