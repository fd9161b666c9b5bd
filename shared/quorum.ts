/**
 * Result verification by vote, as BOINC does it: a task of replication q runs on q
 * distinct volunteers, and an answer is accepted when at least q of them agree on its
 * digest and they are a majority of all answers so far. A disagreement asks for more
 * copies; past `maxAnswers` answers without such a majority the task fails.
 *
 * Why both conditions: "q agree" alone would accept 2 liars against 3 honest answers if
 * the liars answered first; "a majority" alone would accept a single answer.
 */

/** One volunteer's answer to a task: who, and the digest of the output it sent. */
export interface Vote {
  volunteerId: string;
  digest: string;
  atMs: number;
}

export type Verdict =
  | { kind: 'accepted'; digest: string }
  | { kind: 'undecided' }
  | { kind: 'no-quorum'; answers: number };

/** The digest with the most votes and its count (the earliest such digest on a tie). */
function leader(votes: readonly Vote[]): { digest: string | undefined; count: number } {
  const counts = new Map<string, number>();
  let best: { digest: string | undefined; count: number } = { digest: undefined, count: 0 };
  for (const vote of votes) {
    const count = (counts.get(vote.digest) ?? 0) + 1;
    counts.set(vote.digest, count);
    if (count > best.count) best = { digest: vote.digest, count };
  }
  return best;
}

/** What the votes so far decide for a task of replication `q`. */
export function verdict(votes: readonly Vote[], q: number, maxAnswers: number): Verdict {
  const { digest, count } = leader(votes);
  if (digest !== undefined && count >= q && count * 2 > votes.length) return { kind: 'accepted', digest };
  if (votes.length >= maxAnswers) return { kind: 'no-quorum', answers: votes.length };
  return { kind: 'undecided' };
}

/**
 * How many more answers the task needs at the least, supposing each agrees with the
 * leading digest: e more votes make it count + e >= q and count + e > (n + e) / 2.
 * Copies already running count against it, so this is how many more to start.
 */
export function copiesWanted(votes: readonly Vote[], running: number, q: number): number {
  const { count } = leader(votes);
  const needed = Math.max(q - count, votes.length - 2 * count + 1, 0);
  return Math.max(0, needed - running);
}

/** The answers cap for replication q: room for q honest answers to outvote q - 1 liars twice over. */
export function defaultMaxAnswers(q: number): number {
  return q <= 1 ? 1 : 3 * q - 1;
}

/** The volunteers whose answers lost once `winner` was accepted. */
export function losers(votes: readonly Vote[], winner: string): string[] {
  return [...new Set(votes.filter((vote) => vote.digest !== winner).map((vote) => vote.volunteerId))];
}
