/**
 * A new job's way in: its run built in memory, its row and map inputs written, and both
 * made live together. A job of 250,000 map tasks is too much work for one turn of the
 * event loop (it blocked the coordinator for 2 s when it was done at once), so the work
 * is written in steps (server/turns.ts): `submitInTurns` serves everyone else between
 * them; `submitNow` runs them at once.
 *
 * Until its last step, a job being submitted is nobody's to see: it is in no list, no
 * volunteer can lease its tasks, and its id answers 404 (only the 201 says it). Its last
 * step writes the store's finishing piece and hands the run to the scheduler in one
 * synchronous turn, and `submitInTurns` waits for the commit that holds that piece
 * before it resolves, so a "stored" answer is never early. A crash in between leaves a job
 * the store drops when it opens again (beginJob in job-store.ts); a commit the disk
 * refuses leaves none either (the store's rollback, then dropUnfinishedJob).
 */
import { TabreduceError } from '../../shared/errors.ts';
import type { JobPlan } from '../job-planner.ts';
import type { JobRecord, JobStore } from '../store/job-store.ts';
import { runInTurns, runNow, type Steps } from '../turns.ts';
import { jobRecordOf, newRunSteps, type JobRun } from './job-run.ts';

/**
 * Map inputs per store write. Measured (SQLite, 250,000 one-record inputs): 1.4 to 1.9 µs
 * an input, pieces of 1,024 taking up to 8 ms on a busy machine; half that keeps a piece
 * to a few ms of a 10 ms turn. A job with at most this many is written in one piece.
 */
export const INPUTS_PER_PIECE = 512;

export class JobIntake {
  /** Jobs on their way in: their ids are taken, though the scheduler has no run for them yet. */
  readonly #submitting = new Set<string>();

  constructor(
    private readonly store: JobStore,
    /** Whether the scheduler has a run of this id. */
    private readonly isLive: (jobId: string) => boolean,
    /** Makes a run live: called in the turn its job became whole in the store. */
    private readonly admit: (run: JobRun) => void,
  ) {}

  /** Adds a job in one go, blocking the event loop meanwhile; written, not committed. */
  submitNow(plan: JobPlan, nowMs: number): JobRecord {
    return runNow(this.#steps(plan, nowMs));
  }

  /**
   * Adds a job a slice of the event loop at a time (`turnMs` of work each, server/turns.ts);
   * resolves once it is committed, or rejects leaving nothing of it.
   */
  async submitInTurns(plan: JobPlan, nowMs: number, turnMs?: number): Promise<JobRecord> {
    const job = await runInTurns(this.#steps(plan, nowMs), turnMs);
    try {
      // Called in the turn of the job's last write, so it waits for the commit that holds it.
      await this.store.durable();
    } catch (error) {
      // That commit was rolled back, and the scheduler dropped the run with it; the pieces committed before it go too.
      this.store.dropUnfinishedJob(job.id);
      throw error;
    }
    return job;
  }

  *#steps(plan: JobPlan, nowMs: number): Steps<JobRecord> {
    if (this.isLive(plan.id) || this.#submitting.has(plan.id)) throw new TabreduceError('CONFLICT', `job ${plan.id} exists already`);
    this.#submitting.add(plan.id);
    try {
      const job = jobRecordOf(plan, nowMs);
      // Memory first: a refusal from the store then leaves nothing to undo here.
      const run = yield* newRunSteps(job);
      yield* storeJobSteps(this.store, job, plan.mapInputs);
      // No step since the store's last write: the job is live in the turn it is whole.
      this.admit(run);
      return job;
    } finally {
      this.#submitting.delete(plan.id);
    }
  }
}

/**
 * Writes a new job: in one write when its map inputs fit one piece (a range job has
 * none), else its row first, its inputs a piece per step, and the finishing write last.
 * A piece that fails drops what was written.
 */
export function* storeJobSteps(store: JobStore, job: JobRecord, mapInputs: readonly Uint8Array[]): Steps<void> {
  if (mapInputs.length <= INPUTS_PER_PIECE) {
    store.insertJob(job, mapInputs);
    return;
  }
  store.beginJob(job);
  try {
    for (let first = 0; first < mapInputs.length; first += INPUTS_PER_PIECE) {
      store.putMapInputs(job.id, first, mapInputs.slice(first, first + INPUTS_PER_PIECE));
      yield;
    }
    store.finishJob(job.id);
  } catch (error) {
    store.dropUnfinishedJob(job.id);
    throw error;
  }
}
