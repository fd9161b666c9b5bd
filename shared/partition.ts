import { canonicalKey, type Key } from './keys.ts';

/**
 * The one partitioner: which of `partitions` reduce tasks receives `key`. Tabs call it
 * when they split map output and the coordinator calls it to check what tabs send, so
 * it must be pure and identical in every JavaScript engine: 32-bit FNV-1a over the
 * UTF-16 code units of the key's canonical string.
 */
export function partitionOf(key: Key, partitions: number): number {
  return typeof key === 'string' ? partitionOfString(key, partitions) : partitionOfCanonical(canonicalKey(key), partitions);
}

/** `partitionOf` for a key whose canonical string the caller has already. */
export function partitionOfCanonical(canonical: string, partitions: number): number {
  return hashString(canonical) % partitions;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const QUOTE = 0x22;

/**
 * `partitionOf` for a string key: the hash of its canonical string `"` + key, without
 * building that string (a map task meets thousands of distinct words).
 */
export function partitionOfString(key: string, partitions: number): number {
  return (fnv1a(Math.imul(FNV_OFFSET ^ QUOTE, FNV_PRIME), key) >>> 0) % partitions;
}

/** FNV-1a, 32 bits, over UTF-16 code units; returns an unsigned integer. */
export function hashString(text: string): number {
  return fnv1a(FNV_OFFSET, text) >>> 0;
}

function fnv1a(start: number, text: string): number {
  let hash = start;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash;
}
