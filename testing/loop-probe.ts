/**
 * Measures how long a coordinator keeps its event loop from answering, from outside: one
 * cheap request (`GET /api/health`) every `everyMs`, one at a time, and the longest
 * answer. A turn that blocks the loop for B ms holds up the request that arrived during
 * it for up to B ms, so the longest answer is close to the longest block (it reads low by
 * at most `everyMs`, the gap in which no request is in flight). Free of vitest, so the
 * benchmarks use it too.
 */
export interface LoopProbeReport {
  /** The longest wait for one answer, in ms. */
  longestMs: number;
  /** When the longest wait began, in ms since the probe started. */
  longestAtMs: number;
  answers: number;
  /** Requests that failed on the network (a reset connection) and were asked again. */
  resets: number;
}

export class LoopProbe {
  #running = true;
  #longestMs = 0;
  #longestAtMs = 0;
  #answers = 0;
  #resets = 0;
  readonly #startedAt = performance.now();
  readonly #done: Promise<void>;

  constructor(url: string, everyMs = 5) {
    this.#done = this.#loop(`${url}/api/health`, everyMs);
  }

  /** The longest answer so far, without stopping. */
  get longestMs(): number {
    return this.#longestMs;
  }

  get answers(): number {
    return this.#answers;
  }

  /** Forgets the answers so far: what follows is measured from now (the first answers open the connection, and are slow for it). */
  reset(): void {
    this.#longestMs = 0;
    this.#answers = 0;
    this.#resets = 0;
  }

  /** Waits until `count` answers came since the start or the last reset, by polling. */
  async answered(count: number): Promise<void> {
    while (this.#answers < count) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  /** Stops after the request in flight, and reports. */
  async stop(): Promise<LoopProbeReport> {
    this.#running = false;
    await this.#done;
    return { longestMs: this.#longestMs, longestAtMs: this.#longestAtMs, answers: this.#answers, resets: this.#resets };
  }

  async #loop(url: string, everyMs: number): Promise<void> {
    while (this.#running) {
      const asked = performance.now();
      // A coordinator blocked past its keep-alive timeout resets the connection under the
      // waiting request: ask again, and count the wait from the first ask.
      for (let tries = 1; ; tries++) {
        try {
          await (await fetch(url)).arrayBuffer();
          break;
        } catch (error) {
          this.#resets++;
          if (tries >= 10 || !this.#running) throw error;
        }
      }
      const waitedMs = performance.now() - asked;
      this.#answers++;
      if (waitedMs > this.#longestMs) {
        this.#longestMs = waitedMs;
        this.#longestAtMs = asked - this.#startedAt;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - waitedMs)));
    }
  }
}
