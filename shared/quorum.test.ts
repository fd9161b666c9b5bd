import { describe, expect, it } from 'vitest';
import { copiesWanted, defaultMaxAnswers, losers, verdict, type Vote } from './quorum.ts';

const votes = (...digests: string[]): Vote[] => digests.map((digest, i) => ({ volunteerId: `v${i}`, digest, atMs: i }));

describe('verdict', () => {
  it.each<[string, Vote[], number, ReturnType<typeof verdict>]>([
    ['one answer is enough at q = 1', votes('a'), 1, { kind: 'accepted', digest: 'a' }],
    ['one answer is not enough at q = 2', votes('a'), 2, { kind: 'undecided' }],
    ['two agreeing answers at q = 2', votes('a', 'a'), 2, { kind: 'accepted', digest: 'a' }],
    ['a disagreement waits', votes('a', 'b'), 2, { kind: 'undecided' }],
    ['the third answer breaks the tie', votes('a', 'b', 'b'), 2, { kind: 'accepted', digest: 'b' }],
    ['q agreeing answers that are no majority wait', votes('a', 'a', 'b', 'b'), 2, { kind: 'undecided' }],
    ['two liars who answered first do not win against three honest answers', votes('x', 'x', 'a', 'a', 'a'), 3, { kind: 'accepted', digest: 'a' }],
  ])('%s', (_what, given, q, expected) => {
    expect(verdict(given, q, 10)).toEqual(expected);
  });

  it('gives up at the answers cap without a majority of q', () => {
    expect(verdict(votes('a', 'b', 'c', 'd', 'e'), 2, 5)).toEqual({ kind: 'no-quorum', answers: 5 });
    expect(verdict(votes('a', 'b', 'c', 'd'), 2, 5)).toEqual({ kind: 'undecided' });
  });

  it('accepts only on a vote for the winner: adding a dissenting vote never decides', () => {
    // The scheduler stores the output that came with the deciding answer, so this must hold.
    for (const history of [votes('a', 'b'), votes('a', 'a', 'b'), votes('a', 'b', 'c', 'a')]) {
      for (let n = 1; n <= history.length; n++) {
        const before = verdict(history.slice(0, n - 1), 2, 10);
        const after = verdict(history.slice(0, n), 2, 10);
        if (before.kind !== 'accepted' && after.kind === 'accepted') expect(after.digest).toBe(history[n - 1]!.digest);
      }
    }
  });
});

describe('copiesWanted', () => {
  it('asks for q copies at first, fewer as copies run or agree', () => {
    expect(copiesWanted([], 0, 1)).toBe(1);
    expect(copiesWanted([], 0, 2)).toBe(2);
    expect(copiesWanted([], 1, 2)).toBe(1);
    expect(copiesWanted(votes('a'), 0, 2)).toBe(1);
    expect(copiesWanted(votes('a'), 1, 2)).toBe(0);
  });

  it('asks for enough copies to outvote a disagreement', () => {
    expect(copiesWanted(votes('a', 'b'), 0, 2)).toBe(1);
    expect(copiesWanted(votes('a', 'b', 'c'), 0, 2)).toBe(2);
    // x leads 2 of 3: decided already, so nothing more is wanted.
    expect(copiesWanted(votes('x', 'x', 'a'), 0, 2)).toBe(0);
  });

  it('never asks for copies once the answer is decided', () => {
    expect(copiesWanted(votes('a', 'a'), 0, 2)).toBe(0);
  });
});

describe('the rest', () => {
  it('caps answers at 3q - 1, and 1 when nothing is replicated', () => {
    expect([1, 2, 3].map(defaultMaxAnswers)).toEqual([1, 5, 8]);
  });

  it('names each losing volunteer once', () => {
    const cast: Vote[] = [
      { volunteerId: 'liar', digest: 'x', atMs: 0 },
      { volunteerId: 'h1', digest: 'a', atMs: 1 },
      { volunteerId: 'h2', digest: 'a', atMs: 2 },
    ];
    expect(losers(cast, 'a')).toEqual(['liar']);
  });
});
