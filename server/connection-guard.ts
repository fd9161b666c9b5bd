/**
 * Per-connection limits for the volunteer channel: a token bucket on incoming events,
 * and a count of abuse (refused events, malformed payloads, bad results) in a sliding
 * window past which the connection is dropped. Honest volunteers stay far below both:
 * a tab at full speed on trivial tasks sends a few hundred events a second, and sends
 * malformed payloads never.
 */
export interface GuardLimits {
  /** Events per second a connection may send on average. */
  eventsPerSecond: number;
  /** Events it may send at once after a quiet spell. */
  burst: number;
  /** Abusive events within `abuseWindowMs` that get the connection dropped. */
  maxAbuse: number;
  abuseWindowMs: number;
}

export const DEFAULT_GUARD_LIMITS: GuardLimits = { eventsPerSecond: 1000, burst: 2000, maxAbuse: 50, abuseWindowMs: 10_000 };

export class ConnectionGuard {
  #tokens: number;
  #refilledAtMs: number;
  /** Times of recent abuse, oldest first; never longer than maxAbuse. */
  #abuse: number[] = [];

  constructor(
    private readonly limits: GuardLimits,
    nowMs: number,
  ) {
    this.#tokens = limits.burst;
    this.#refilledAtMs = nowMs;
  }

  /** Takes one event from the bucket; false when the connection sends too fast. */
  allow(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.#refilledAtMs);
    this.#tokens = Math.min(this.limits.burst, this.#tokens + (elapsed * this.limits.eventsPerSecond) / 1000);
    this.#refilledAtMs = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Records one abusive event; true when the connection has had enough and should be dropped. */
  abused(nowMs: number): boolean {
    this.#abuse.push(nowMs);
    while (this.#abuse.length > 0 && nowMs - this.#abuse[0]! > this.limits.abuseWindowMs) this.#abuse.shift();
    if (this.#abuse.length > this.limits.maxAbuse) this.#abuse.shift();
    return this.#abuse.length >= this.limits.maxAbuse;
  }
}
