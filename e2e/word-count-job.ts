/**
 * The healthy job the resilience tests run after each misfortune: the seed word count
 * (examples/word-count.js) over generated prose, checked against the independent
 * reference count in corpus.ts.
 */
import { readFileSync } from 'node:fs';
import { expect } from '@playwright/test';
import type { KeyValue, TaskSummary } from '../shared/job.ts';
import { makeProse, referenceWordCount } from './corpus.ts';
import { getJson, submitJob, waitForJob } from './fixtures.ts';

/** examples/word-count.js, the seed programs' word count. */
export const WORD_COUNT_SOURCE = readFileSync(new URL('../examples/word-count.js', import.meta.url), 'utf8');

export interface WordCountJob {
  id: string;
  /** What the job must answer: word → count. */
  reference: Map<string, number>;
}

export interface WordCountOptions {
  /** Size of the generated text, in bytes. */
  bytes: number;
  /** Seed of the generated text. */
  seed: number;
  splitBytes: number;
  reducers: number;
  maxAttempts?: number;
  name?: string;
}

/** Submits a word count over `bytes` of seeded prose; answers its id and its reference result. */
export async function submitWordCount(baseUrl: string, options: WordCountOptions): Promise<WordCountJob> {
  const text = makeProse(options.bytes, options.seed);
  const id = await submitJob(baseUrl, {
    name: options.name ?? `word count (seed ${options.seed})`,
    source: WORD_COUNT_SOURCE,
    input: { kind: 'texts', files: [{ name: 'prose.txt', text }] },
    splitBytes: options.splitBytes,
    reducers: options.reducers,
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
  });
  return { id, reference: referenceWordCount([text]) };
}

/** Waits for the job to succeed with exactly the reference counts; answers its tasks. */
export async function expectExactWordCount(baseUrl: string, job: WordCountJob): Promise<TaskSummary[]> {
  const summary = await waitForJob(baseUrl, job.id);
  expect(summary.error).toBeUndefined();
  expect(summary.state).toBe('succeeded');
  const result = await getJson<KeyValue[]>(`${baseUrl}/api/jobs/${job.id}/result`);
  expect(new Map(result as [string, number][])).toEqual(job.reference);
  return getJson<TaskSummary[]>(`${baseUrl}/api/jobs/${job.id}/tasks`);
}
