/**
 * Result verification end to end over real sockets: honest Node volunteers (the tab's
 * VolunteerClient and task runtime) beside a liar speaking the same protocol, on
 * word count with replication 2 and with spot checks, on several seeds of text.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ClusterSummary, JobSummary, KeyValue, TaskSummary } from '../shared/job.ts';
import { InProcessExecutor } from '../node-volunteer/in-process-executor.ts';
import type { Coordinator } from './coordinator.ts';
import { LyingExecutor } from '../testing/lying-executor.ts';
import { isSpotChecked, outputDigest } from './verification.ts';
import { api, startVolunteer, stopAfterEach, testCoordinator, waitFor, waitForJobEnd, type TestVolunteer } from '../testing/integration-rig.ts';

const WORD_COUNT = readFileSync(new URL('../examples/word-count.js', import.meta.url), 'utf8');
const WORDS = ['tab', 'reduce', 'map', 'vote', 'liar', 'honest', 'quorum', 'digest'];

/** A seeded text of `count` words and its exact word count. */
function seededText(seed: number, count: number): { text: string; counts: Map<string, number> } {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  const words = Array.from({ length: count }, () => WORDS[next() % WORDS.length]!);
  const counts = new Map<string, number>();
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
  return { text: words.join(' '), counts };
}

describe('result verification with a lying volunteer', () => {
  const rig = stopAfterEach();
  let coordinator: Coordinator | undefined;
  let volunteers: TestVolunteer[] = [];

  async function cluster(maxStrikes: number) {
    coordinator = rig.coordinator = await testCoordinator({ maxStrikes });
    const liar = new LyingExecutor(new InProcessExecutor({ slots: 2 }));
    volunteers = rig.volunteers = [startVolunteer(coordinator.url, liar), startVolunteer(coordinator.url), startVolunteer(coordinator.url)];
    await waitFor('three volunteers', async () => (await coordinator!.scheduler.cluster()).volunteers === 3);
    await waitFor('the liar registered', () => volunteers[0]!.state()?.volunteerId);
    return { liar, liarId: volunteers[0]!.state().volunteerId! };
  }

  async function submit(body: object): Promise<string> {
    const { status, body: created } = await api<{ id: string }>(coordinator!.url, '/api/jobs', { method: 'POST', json: body });
    expect(status).toBe(201);
    return created.id;
  }

  it.each([1, 2, 3])('replication 2 gives the exact word count and strikes the liar out (seed %i)', async (seed) => {
    const { liar, liarId } = await cluster(2);
    const files = [0, 1, 2, 3].map((i) => ({ name: `part-${i}.txt`, ...seededText(seed * 10 + i, 600) }));
    const id = await submit({ name: `verified ${seed}`, source: WORD_COUNT, input: { kind: 'texts', files: files.map(({ name, text }) => ({ name, text })) }, splitBytes: 1024, reducers: 3, replication: 2 });
    const job = await waitForJobEnd(coordinator!.url, id, 60_000);
    expect(job.error).toBeUndefined();
    expect(job.state).toBe('succeeded');

    const expected = new Map<string, number>();
    for (const file of files) for (const [word, n] of file.counts) expected.set(word, (expected.get(word) ?? 0) + n);
    const { body: result } = await api<KeyValue[]>(coordinator!.url, `/api/jobs/${id}/result`);
    expect(new Map(result as [string, number][])).toEqual(expected);

    expect(liar.told.size).toBeGreaterThan(0);
    const { body: summary } = await api<JobSummary>(coordinator!.url, `/api/jobs/${id}`);
    expect(summary.replication).toBe(2);
    expect(summary.votes.disputed).toBeGreaterThan(0);
    const { body: tasks } = await api<TaskSummary[]>(coordinator!.url, `/api/jobs/${id}/tasks`);
    for (const task of tasks) expect(task.votes!.filter((vote) => vote.agreed).length).toBeGreaterThanOrEqual(2);
    const { body: volunteersNow } = await api<ClusterSummary>(coordinator!.url, '/api/volunteers');
    const struck = volunteersNow.volunteerList.find((volunteer) => volunteer.id === liarId);
    expect(struck).toMatchObject({ struckOut: true, agreed: 0 });
    expect(struck!.strikes).toBeGreaterThanOrEqual(2);
    // The liar hears why it gets no more work.
    await waitFor('the liar to be told it is refused', () => /refused|FORBIDDEN|lost .* votes/.test(volunteers[0]!.state().lastError ?? ''));
  });

  it('spotCheck 1 catches the liar on a replication-1 job; spotCheck picks a secret fraction', async () => {
    const { liarId } = await cluster(1);
    const { text, counts } = seededText(42, 2000);
    const id = await submit({ name: 'spot-checked', source: WORD_COUNT, input: { kind: 'texts', files: [{ name: 'a.txt', text }] }, splitBytes: 1024, reducers: 2, spotCheck: 1 });
    const job = await waitForJobEnd(coordinator!.url, id, 60_000);
    expect(job.state).toBe('succeeded');
    const { body: result } = await api<KeyValue[]>(coordinator!.url, `/api/jobs/${id}/result`);
    expect(new Map(result as [string, number][])).toEqual(counts);
    const { body: now } = await api<ClusterSummary>(coordinator!.url, '/api/volunteers');
    expect(now.volunteerList.find((volunteer) => volunteer.id === liarId)).toMatchObject({ struckOut: true });

    // A fraction of about what was asked, different for another salt.
    const ids = Array.from({ length: 2000 }, (_, i) => `job/map/${i}`);
    const checked = ids.filter((taskId) => isSpotChecked({ spotCheck: 0.1, spotCheckSalt: 'salt-a' }, taskId));
    expect(checked.length).toBeGreaterThan(140);
    expect(checked.length).toBeLessThan(260);
    expect(checked).not.toEqual(ids.filter((taskId) => isSpotChecked({ spotCheck: 0.1, spotCheckSalt: 'salt-b' }, taskId)));
  });
});

describe('outputDigest', () => {
  it('tells outputs apart by content and by their cut into partitions', () => {
    const bytes = new TextEncoder().encode('[["a",[1]]][]');
    const a = outputDigest({ kind: 'map', blocks: bytes, offsets: [0, 11, 13] });
    expect(outputDigest({ kind: 'map', blocks: bytes.slice().buffer, offsets: [0, 11, 13] })).toBe(a);
    expect(outputDigest({ kind: 'map', blocks: bytes, offsets: [0, 2, 13] })).not.toBe(a);
    expect(outputDigest({ kind: 'reduce', pairs: bytes })).not.toBe(a);
  });
});
