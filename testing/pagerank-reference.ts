/**
 * The PageRank example's answer computed the plain way, for the tests to check the
 * cluster's iterations against: the power method on the whole web at once.
 */
import type { KeyValue } from '../shared/job.ts';

export interface PageState {
  rank: number;
  links: string[];
  pages: number;
}

const DAMPING = 0.85;

/** The ranks after iterating from `web` until no rank moves by more than `tolerance`. */
export function pagerankReference(web: readonly KeyValue[], tolerance: number): Map<string, number> {
  let ranks = new Map(web.map(([page, state]) => [page as string, (state as PageState).rank]));
  const pages = web.length;
  for (let iteration = 0; iteration < 1000; iteration++) {
    const next = new Map([...ranks.keys()].map((page) => [page, (1 - DAMPING) / pages]));
    for (const [page, state] of web) {
      const { links } = state as PageState;
      for (const target of links) next.set(target, next.get(target)! + (DAMPING * ranks.get(page as string)!) / links.length);
    }
    const moved = Math.max(...[...next].map(([page, rank]) => Math.abs(rank - ranks.get(page)!)));
    ranks = next;
    if (moved <= tolerance) return ranks;
  }
  throw new Error('PageRank did not converge');
}

/** The largest change of any page's rank between two iterations' results. */
export function largestMove(before: readonly KeyValue[], after: readonly KeyValue[]): number {
  const old = new Map(before.map(([page, state]) => [page, (state as PageState).rank]));
  return Math.max(...after.map(([page, state]) => Math.abs((state as PageState).rank - old.get(page)!)));
}

/** The PageRank example's web: its pages, links and starting ranks. */
export function pagerankWeb(examples: readonly { id: string; input: unknown }[]): KeyValue[] {
  return (examples.find((example) => example.id === 'pagerank')!.input as { records: KeyValue[] }).records;
}

/**
 * Runs PageRank as a pipeline until no rank moves by more than `tolerance`: `start` submits
 * the first iteration on the web, `next` one whose input is the last one's result (a job
 * input), and `resultOf` waits for a job and reads its result. Answers the last ranks and
 * how many iterations ran.
 */
export async function iterateToConvergence(
  web: readonly KeyValue[],
  tolerance: number,
  steps: { start: () => Promise<string>; next: (lastId: string) => Promise<string>; resultOf: (id: string) => Promise<KeyValue[]> },
): Promise<{ ranks: KeyValue[]; iterations: number }> {
  let last = await steps.start();
  let ranks = await steps.resultOf(last);
  let iterations = 1;
  for (let moved = largestMove(web, ranks); moved > tolerance; iterations++) {
    last = await steps.next(last);
    const next = await steps.resultOf(last);
    moved = largestMove(ranks, next);
    ranks = next;
  }
  return { ranks, iterations };
}
