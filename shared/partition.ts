import { canonicalKey, type Key } from './keys.ts';

/**
 * The one partitioner: which of `partitions` reduce tasks receives `key`. Tabs call it
 * when they split map output and the coordinator calls it to check what tabs send, so
 * it must be pure and identical in every JavaScript engine: 32-bit FNV-1a over the
 * UTF-16 code units of the key's canonical string.
 */
export function partitionOf(key: Key, partitions: number): number {
  return partitionOfCanonical(canonicalKey(key), partitions);
}

/** `partitionOf` for a key whose canonical string the caller has already. */
export function partitionOfCanonical(canonical: string, partitions: number): number {
  return hashString(canonical) % partitions;
}

/** FNV-1a, 32 bits, over UTF-16 code units; returns an unsigned integer. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
