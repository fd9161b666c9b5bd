/**
 * What result verification needs from the coordinator's side: the digest two answers
 * are compared by, and which tasks a spot-checked job verifies.
 */
import { createHash } from 'node:crypto';
import type { TaskOutput } from '../shared/protocol.ts';
import type { JobRecord } from './store/job-store.ts';
import { toUint8Array } from '../shared/byte-packing.ts';

/**
 * SHA-256 of an answer as sent. The task runtime's output is canonical for a given input
 * and deterministic job code: keys in first-seen order, values in emit order, JSON as
 * ECMAScript specifies it. So honest volunteers send the same bytes, whatever the browser.
 */
export function outputDigest(output: TaskOutput): string {
  const hash = createHash('sha256');
  if (output.kind === 'map') {
    hash.update(`map ${output.offsets.join(',')}\n`);
    hash.update(toUint8Array(output.blocks));
  } else {
    hash.update('reduce\n');
    hash.update(toUint8Array(output.pairs));
  }
  return hash.digest('hex');
}

/**
 * Whether a task of a spot-checked job runs twice. Decided by a keyed hash the
 * volunteers cannot compute (the key is the job's secret salt), so a liar cannot tell
 * which of its tasks will be checked.
 */
export function isSpotChecked(job: Pick<JobRecord, 'spotCheck' | 'spotCheckSalt'>, taskId: string): boolean {
  if (!job.spotCheck || !job.spotCheckSalt) return false;
  const hash = createHash('sha256').update(job.spotCheckSalt).update(taskId).digest();
  return hash.readUInt32BE(0) / 2 ** 32 < job.spotCheck;
}
