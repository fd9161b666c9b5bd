/**
 * The volunteers connected right now: what each announced (agent, slots), what it has
 * done, and whether it waits to be told of work. Their leases are the lease table's.
 */
export interface Volunteer {
  id: string;
  agent: string;
  slots: number;
  connectedAtMs: number;
  tasksDone: number;
  tasksFailed: number;
  /**
   * Slots it asked work for and did not get at its last request: it waits for a
   * `work:available` before asking again, so only such volunteers are woken, not all.
   */
  hungry: number;
  /**
   * Tasks it was asked to hand back (`tasks:yield`) since it last claimed or returned
   * work: counted against what it holds beyond its slots, so idle volunteers asking at
   * once do not all ask it for the same waiting task.
   */
  yieldsAsked: number;
  /** Lease-to-answer time of every answer it sent, summed, for its mean task time. */
  answeredMs: number;
  answers: number;
  /** Task input sent to it and output received from it, in bytes. */
  bytesSent: number;
  bytesReceived: number;
}

export class VolunteerRegistry {
  readonly #byId = new Map<string, Volunteer>();

  get(volunteerId: string): Volunteer | undefined {
    return this.#byId.get(volunteerId);
  }

  /** Volunteers connected. */
  get size(): number {
    return this.#byId.size;
  }

  all(): IterableIterator<Volunteer> {
    return this.#byId.values();
  }

  /** Adds a volunteer, or updates what a reconnecting one announces. */
  connect(volunteerId: string, agent: string, slots: number, nowMs: number): void {
    const existing = this.#byId.get(volunteerId);
    if (existing) {
      existing.agent = agent;
      existing.slots = slots;
      return;
    }
    this.#byId.set(volunteerId, {
      id: volunteerId,
      agent,
      slots,
      connectedAtMs: nowMs,
      tasksDone: 0,
      tasksFailed: 0,
      hungry: 0,
      yieldsAsked: 0,
      answeredMs: 0,
      answers: 0,
      bytesSent: 0,
      bytesReceived: 0,
    });
  }

  /** Counts an answer it sent: `answeredMs` from lease to answer (when its lease was found), `bytes` of output. */
  recordAnswer(volunteerId: string, answeredMs: number | undefined, bytes: number): void {
    const volunteer = this.#byId.get(volunteerId);
    if (!volunteer) return;
    volunteer.tasksDone++;
    volunteer.answers++;
    if (answeredMs !== undefined) volunteer.answeredMs += answeredMs;
    volunteer.bytesReceived += bytes;
  }

  delete(volunteerId: string): void {
    this.#byId.delete(volunteerId);
  }

  /**
   * Picks waiting volunteers to wake, enough of them to take `leasable` tasks, among
   * those `may` allows; they stop waiting (they will ask).
   */
  takeWaiting(leasable: number, may: (volunteerId: string) => boolean): string[] {
    const woken: string[] = [];
    for (const volunteer of this.#byId.values()) {
      if (leasable <= 0) break;
      if (volunteer.hungry <= 0 || !may(volunteer.id)) continue;
      woken.push(volunteer.id);
      leasable -= volunteer.hungry;
      volunteer.hungry = 0;
    }
    return woken;
  }

  /** Whether any volunteer waits to be told of work. */
  anyWaiting(): Volunteer | undefined {
    for (const volunteer of this.#byId.values()) if (volunteer.hungry > 0) return volunteer;
    return undefined;
  }
}
