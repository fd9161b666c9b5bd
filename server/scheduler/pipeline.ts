/**
 * Pipelines: a job whose input is another job's result (`{"kind": "job", "id"}`). It is
 * submitted with no tasks, `awaiting` that job (job-planner.ts), and stays queued until
 * the job it reads ends; then it is planned from that job's result, its `[key, value]`
 * pairs taken as records and cut by `recordsPerTask` like any records input, or it fails
 * saying why it has no input. This file decides which; the scheduler does what it says
 * (`#settleAwaiting`), in the turn the awaited job ended, so the awaited job's end and
 * the next one's tasks are in one commit.
 *
 * A result is planned in one turn: a result of 100,000 pairs is about 100 ms of it. It
 * is read whole, once, before the awaited job's result can be dropped by its retention.
 */
import { TabreduceError } from '../../shared/errors.ts';
import type { JobFailure } from '../../shared/job-lifecycle.ts';
import type { KeyValue } from '../../shared/job.ts';
import { planJob } from '../job-planner.ts';
import type { JobRecord } from '../store/job-store.ts';

/** The failure name of a job whose input job did not succeed, or whose result is no input it can take. */
export const INPUT_JOB_FAILED = 'InputJobFailed';

export type AwaitedOutcome =
  /** The awaited job is still running (or queued). */
  | { kind: 'waiting' }
  /** Planned: the job with its task counts, and its map inputs in their stored form. */
  | { kind: 'planned'; job: JobRecord; mapInputs: Uint8Array[] }
  | { kind: 'failed'; failure: JobFailure };

/**
 * What becomes of `job`, awaiting another's result, now that `upstream` (undefined: not
 * held, or no longer) is what it is. `resultOf` reads a succeeded job's result whole.
 */
export function settleAwaited(
  job: JobRecord,
  upstream: JobRecord | undefined,
  resultOf: (jobId: string) => KeyValue[],
  maxMessageBytes: number | undefined,
): AwaitedOutcome {
  const awaited = job.awaiting;
  if (!awaited) throw new Error(`job ${job.id} awaits no job`);
  const fail = (message: string): AwaitedOutcome => ({ kind: 'failed', failure: { name: INPUT_JOB_FAILED, message } });
  if (!upstream) return fail(`its input job ${awaited.jobId} is no longer held by the coordinator: it was deleted after its retention time`);
  switch (upstream.state.status) {
    case 'queued':
    case 'running':
      return { kind: 'waiting' };
    case 'failed':
      return fail(`its input job ${upstream.id} failed: ${upstream.state.error.message}`);
    case 'cancelled':
      return fail(`its input job ${upstream.id} was cancelled`);
    case 'succeeded':
      break;
  }
  let plan;
  try {
    plan = planJob(
      {
        name: job.name,
        source: job.source,
        input: { kind: 'records', records: resultOf(upstream.id) },
        ...(awaited.recordsPerTask !== undefined ? { recordsPerTask: awaited.recordsPerTask } : {}),
        ...(awaited.reducers !== undefined ? { reducers: awaited.reducers } : {}),
        replication: job.replication,
        maxAttempts: job.maxAttempts,
      },
      { jobId: job.id, ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}) },
    );
  } catch (error) {
    if (!(error instanceof TabreduceError)) throw error;
    // The planner speaks of "the input"; here that is the other job's result.
    return fail(`its input, the result of job ${upstream.id}, cannot be planned: ${error.message.replace(/^the input is empty.*/, 'the result is empty')}`);
  }
  const { awaiting: _planned, ...rest } = job;
  return {
    kind: 'planned',
    job: { ...rest, mapTasks: plan.mapTasks, reducers: plan.reducers, inputBytes: plan.inputBytes },
    mapInputs: plan.mapInputs,
  };
}
