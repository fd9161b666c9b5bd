import { describe, expect, it } from 'vitest';
import type { SubmitProgress } from '../client/index.ts';
import type { JobStatus } from '../shared/job-lifecycle.ts';
import type { JobSummary } from '../shared/job.ts';
import { bar, describeProgress, progressReporter } from './progress-bar.ts';

function jobAt(state: JobStatus, mapDone: number, reduceDone: number, inputBytes = 4 * 1024 * 1024): SubmitProgress {
  const job: JobSummary = {
    id: 'job-1',
    name: 'words',
    state,
    progress: { map: { done: mapDone, total: 40 }, reduce: { done: reduceDone, total: 4 } },
    submittedAtMs: 0,
    reducers: 4,
    inputBytes,
    sourceDigest: 'd',
    running: 0,
    volunteersUsed: 1,
    retries: 0,
    backups: { started: 0, won: 0 },
    replication: 1,
    votes: { decided: 0, disputed: 0 },
  };
  return { phase: state, jobId: 'job-1', job };
}

/** A stream that records writes, and a clock the test moves. */
function fakeTerminal(isTTY: boolean) {
  const writes: string[] = [];
  let now = 0;
  const stream = { isTTY, columns: 120, write: (text: string) => writes.push(text) } as unknown as NodeJS.WriteStream;
  return { stream, writes, tick: (ms: number) => (now += ms), now: () => now };
}

describe('describeProgress', () => {
  it.each([
    ['upload, rate not known yet', { phase: 'uploading', sentBytes: 1024 * 1024, totalBytes: 4 * 1024 * 1024 } as SubmitProgress, {}, '1.0 MiB of 4.0 MiB'],
    ['upload with its rate', { phase: 'uploading', sentBytes: 1024 * 1024, totalBytes: 4 * 1024 * 1024 } as SubmitProgress, { bytesPerSecond: 2 * 1024 * 1024 }, '1.0 MiB of 4.0 MiB · 2.0 MiB/s'],
    ['a job with rates', jobAt('mapping', 12, 0), { tasksPerSecond: 5.08, bytesPerSecond: 1.5 * 1024 * 1024 }, '12/40 map · 0/4 reduce · 5.1 tasks/s · 1.5 MiB/s'],
    ['a range job: no bytes rate', jobAt('reducing', 40, 1, 0), { tasksPerSecond: 3, bytesPerSecond: 0 }, '40/40 map · 1/4 reduce · 3.0 tasks/s'],
  ])('%s', (_name, progress, rates, text) => {
    expect(describeProgress(progress, rates)).toBe(text);
  });

  it('says where volunteers can join while queued, and why a job failed', () => {
    expect(describeProgress(jobAt('queued', 0, 0), {}, 'open http://h/volunteer')).toBe('0/40 map · 0/4 reduce · open http://h/volunteer');
    const failed = jobAt('failed', 3, 0);
    if (failed.phase !== 'uploading') failed.job.error = { name: 'TypeError', message: 'x is undefined\nmore', taskId: 't' };
    expect(describeProgress(failed)).toBe('3/40 map · 0/4 reduce · TypeError: x is undefined');
  });
});

describe('progressReporter', () => {
  it('on a terminal redraws one line in place with a bar, and ends it with a newline', () => {
    const terminal = fakeTerminal(true);
    const reporter = progressReporter(terminal.stream, { now: terminal.now });
    reporter.update(jobAt('mapping', 0, 0));
    terminal.tick(2_000);
    reporter.update(jobAt('mapping', 20, 0));
    terminal.tick(50);
    reporter.update(jobAt('mapping', 21, 0)); // within 100 ms of the last redraw: skipped
    terminal.tick(1_000);
    reporter.update(jobAt('succeeded', 40, 4));
    reporter.finish();
    expect(terminal.writes).toEqual([
      `\rmapping   ${bar(0, 24)}  0/40 map · 0/4 reduce\x1b[K`,
      `\rmapping   ${bar(20 / 44, 24)}  20/40 map · 0/4 reduce · 10.0 tasks/s · 1.0 MiB/s\x1b[K`,
      `\rsucceeded ${bar(1, 24)}  40/40 map · 4/4 reduce · 14.4 tasks/s · 1.3 MiB/s\x1b[K`,
      '\n',
    ]);
  });

  it('on a terminal ends on the last state, even one that came too soon to be drawn', () => {
    const terminal = fakeTerminal(true);
    const reporter = progressReporter(terminal.stream, { now: terminal.now });
    reporter.update({ phase: 'uploading', sentBytes: 0, totalBytes: 2048 });
    terminal.tick(10);
    reporter.update({ phase: 'uploading', sentBytes: 2048, totalBytes: 2048 });
    reporter.finish();
    expect(terminal.writes).toEqual([
      `\ruploading ${bar(0, 24)}  0 bytes of 2.0 KiB\x1b[K`,
      `\ruploading ${bar(1, 24)}  2.0 KiB of 2.0 KiB\x1b[K`,
      '\n',
    ]);
  });

  it('elsewhere prints a line per phase and at most one a second while counts move, and the last state', () => {
    const log = fakeTerminal(false);
    const reporter = progressReporter(log.stream, { now: log.now });
    reporter.update({ phase: 'uploading', sentBytes: 0, totalBytes: 10 }); // a quick upload: no line
    reporter.update(jobAt('queued', 0, 0));
    reporter.update(jobAt('mapping', 1, 0));
    log.tick(300);
    reporter.update(jobAt('mapping', 5, 0)); // too soon
    log.tick(800);
    reporter.update(jobAt('mapping', 9, 0));
    log.tick(100);
    reporter.update(jobAt('mapping', 10, 0)); // too soon, but the last: printed by finish
    reporter.finish();
    expect(log.writes).toEqual([
      'queued: 0/40 map · 0/4 reduce\n',
      'mapping: 1/40 map · 0/4 reduce\n',
      'mapping: 9/40 map · 0/4 reduce · 7.3 tasks/s · 744.7 KiB/s\n',
      'mapping: 10/40 map · 0/4 reduce · 7.5 tasks/s · 768.0 KiB/s\n',
    ]);
  });

  it('bars are clamped and as wide as asked', () => {
    expect(bar(0.5, 10)).toBe('[█████░░░░░]');
    expect(bar(7, 4)).toBe('[████]');
    expect(bar(-1, 4)).toBe('[░░░░]');
  });
});
