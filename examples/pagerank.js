// PageRank, one iteration of the power method (the example of Google's MapReduce paper
// and of every Hadoop course). A record is [page, { rank, links, pages }]: its rank now,
// the pages it links to, and how many pages there are. The output has the same shape, so
// the next iteration's input is this one's result, `{"kind": "job", "id": "<this job>"}`,
// and a client submits iteration after iteration until the ranks stop moving.
const DAMPING = 0.85;

export function* map(page, { rank, links, pages }) {
  // The page's own links travel to its reducer, so the next iteration has them too.
  yield [page, { links, pages }];
  for (const target of links) yield [target, { share: rank / links.length }];
}

export function reduce(page, values) {
  let links = [];
  let pages = 0;
  let incoming = 0;
  for (const value of values) {
    if (value.links) ({ links, pages } = value);
    else incoming += value.share;
  }
  return { rank: (1 - DAMPING) / pages + DAMPING * incoming, links, pages };
}
