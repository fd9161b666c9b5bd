/**
 * Requests that arrive while others of their kind are in flight go together, in one
 * transaction per batch: with a crowd, one transaction per volunteer's claim or answer
 * queued them all on their job's row (every one updates its counters, and holds the row
 * until it commits), a few hundred a second whatever the pool. The first request goes at
 * once, alone: a few volunteers see no added wait. At most `maxRunning` batches run at a
 * time, so the rest of the coordinator (heartbeats, the API) keeps connections.
 */
export class Batches<Request, Result> {
  readonly #queue: { request: Request; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  #running = 0;

  /** `run` answers, per request and in order, its result or the error it alone failed with. */
  constructor(
    private readonly run: (requests: Request[]) => Promise<(Result | BatchRefusal)[]>,
    private readonly maxBatch: number,
    private readonly maxRunning: number,
  ) {}

  submit(request: Request): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    while (this.#running < this.maxRunning && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.maxBatch);
      this.#running++;
      this.run(batch.map((entry) => entry.request))
        .then(
          (results) =>
            batch.forEach((entry, index) => {
              const result = results[index]!;
              if (result instanceof BatchRefusal) entry.reject(result.error);
              else entry.resolve(result);
            }),
          (error: unknown) => batch.forEach((entry) => entry.reject(error)),
        )
        .finally(() => {
          this.#running--;
          this.#next();
        });
    }
  }
}

/** One request of a batch refused on its own (the others go on). */
export class BatchRefusal {
  constructor(readonly error: unknown) {}
}
