/**
 * The job sources a volunteer has fetched (`job:source`), by job id. A fetch under way is
 * shared by every task that needs it; a failed one is forgotten, so the next task of the
 * job asks again.
 */
import type { JobSourceReply } from '../shared/protocol.ts';

/** What running a job's tasks needs of it: its code and the code's digest. */
export type JobModuleSource = Pick<JobSourceReply, 'digest' | 'source'>;
import { describeFailure, type CallResult } from './coordinator-call.ts';

/** Job sources kept by default; older jobs are fetched again if they ever come back. */
export const JOB_CACHE_SIZE = 32;

export class JobSources {
  readonly #fetch: (jobId: string) => Promise<CallResult<JobSourceReply>>;
  readonly #limit: number;
  readonly #byJobId = new Map<string, Promise<JobSourceReply>>();
  /** Modules fetched, by digest: a new job with code already here can start at once. */
  readonly #byDigest = new Map<string, JobModuleSource>();

  /** `fetch` asks the coordinator for one job's source; at most `limit` sources are kept. */
  constructor(fetch: (jobId: string) => Promise<CallResult<JobSourceReply>>, limit = JOB_CACHE_SIZE) {
    this.#fetch = fetch;
    this.#limit = limit;
  }

  /** A module fetched for some job, by its digest; undefined when none with that digest is here. */
  module(digest: string): JobModuleSource | undefined {
    return this.#byDigest.get(digest);
  }

  /** The job's source; rejects with an Error saying why it could not be had (`CODE: message`, or no answer). */
  get(jobId: string): Promise<JobSourceReply> {
    const cached = this.#byJobId.get(jobId);
    if (cached) return cached;
    const fetching = this.#fetch(jobId).then((reply) => {
      if (!reply.ok) throw new Error(describeFailure(reply.failure));
      const { digest, source } = reply.value;
      this.#byDigest.delete(digest);
      this.#byDigest.set(digest, { digest, source });
      if (this.#byDigest.size > this.#limit) this.#byDigest.delete(this.#byDigest.keys().next().value!);
      return reply.value;
    });
    this.#byJobId.set(jobId, fetching);
    fetching.catch(() => {
      if (this.#byJobId.get(jobId) === fetching) this.#byJobId.delete(jobId);
    });
    if (this.#byJobId.size > this.#limit) this.#byJobId.delete(this.#byJobId.keys().next().value!);
    return fetching;
  }
}
