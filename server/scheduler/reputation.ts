/**
 * How each volunteer's answers fared in votes on replicated tasks, and who is struck
 * out: after `maxStrikes` lost votes a volunteer's results are refused and it gets no
 * work. Kept after a volunteer leaves, so the dashboard can still show who was struck out.
 */
import { TabreduceError } from '../../shared/errors.ts';

export interface Reputation {
  agreed: number;
  strikes: number;
}

export const DEFAULT_MAX_STRIKES = 3;

export class Reputations {
  readonly #byVolunteer = new Map<string, Reputation>();

  constructor(private readonly maxStrikes: number = DEFAULT_MAX_STRIKES) {}

  of(volunteerId: string): Reputation & { struckOut: boolean } {
    const reputation = this.#byVolunteer.get(volunteerId) ?? { agreed: 0, strikes: 0 };
    return { ...reputation, struckOut: this.isStruckOut(volunteerId) };
  }

  /** Out of strikes: its results are refused and it gets no work. */
  isStruckOut(volunteerId: string): boolean {
    return (this.#byVolunteer.get(volunteerId)?.strikes ?? 0) >= this.maxStrikes;
  }

  /** Counts a decided vote: a strike for each loser, an agreement for the others. Answers who is struck out now. */
  tally(voters: readonly string[], lost: readonly string[]): string[] {
    for (const volunteerId of new Set(voters)) {
      const reputation = this.#byVolunteer.get(volunteerId) ?? { agreed: 0, strikes: 0 };
      if (lost.includes(volunteerId)) reputation.strikes++;
      else reputation.agreed++;
      this.#byVolunteer.set(volunteerId, reputation);
    }
    return lost.filter((volunteerId) => this.isStruckOut(volunteerId));
  }

  /** Throws FORBIDDEN for a struck-out volunteer. */
  refuseStruckOut(volunteerId: string): void {
    if (!this.isStruckOut(volunteerId)) return;
    const { strikes } = this.of(volunteerId);
    throw new TabreduceError('FORBIDDEN', `this volunteer's answers lost ${strikes} votes against other volunteers'; its results are refused and it gets no more work`);
  }
}
