import { describe, expect, it } from 'vitest';
import type { JobSummary, TaskSummary } from '../shared/job.ts';
import { renderJobReport } from './job-report.ts';

const job = (extra: Partial<JobSummary> = {}): JobSummary => ({
  id: 'job-1',
  name: 'words',
  state: 'succeeded',
  progress: { map: { done: 2, total: 2 }, reduce: { done: 1, total: 1 } },
  submittedAtMs: 1_000,
  startedAtMs: 2_000,
  finishedAtMs: 4_000,
  reducers: 1,
  inputBytes: 2_048,
  sourceDigest: 'abc',
  running: 0,
  volunteersUsed: 2,
  retries: 1,
  backups: { started: 1, won: 0 },
  replication: 1,
  votes: { decided: 0, disputed: 0 },
  ...extra,
});

const task = (kind: 'map' | 'reduce', index: number, extra: Partial<TaskSummary> = {}): TaskSummary => ({
  id: `job-1/${kind}/${index}`,
  kind,
  index,
  status: 'done',
  attemptsStarted: 1,
  volunteerId: `v${index}`,
  durationMs: 500 * (index + 1),
  startedAtMs: 2_000,
  finishedAtMs: 2_000 + 500 * (index + 1),
  inputBytes: 1_024,
  outputBytes: 100,
  ...extra,
});

describe('the job report', () => {
  it('escapes what the submitter wrote, and carries no script', () => {
    const html = renderJobReport(job({ name: '<script>alert("x")</script>' }), [], 5_000);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('shows throughput over the wall time, the metrics per phase, a bar per attempt and the failure', () => {
    const tasks = [
      task('map', 0, { pastAttempts: [{ volunteerId: 'v9', startedAtMs: 2_000, endedAtMs: 2_100, outcome: 'failed', backup: false }] }),
      task('map', 1),
      task('reduce', 0, { status: 'failed', durationMs: undefined, lastError: { name: 'TypeError', message: 'x is undefined' }, attemptsStarted: 4 }),
    ];
    const html = renderJobReport(job({ state: 'failed', error: { name: 'TypeError', message: 'x is undefined', taskId: 'job-1/reduce/0' } }), tasks, 5_000);
    // 3 tasks done in 2 s, 2 KiB of input.
    expect(html).toMatch(/data-testid="report-throughput">1\.5 tasks\/s, 1(\.0)? KiB\/s of input</);
    expect(html).toContain('data-testid="report-map-duration-median" data-value="500"');
    expect(html).toContain('data-testid="report-map-duration-max" data-value="1000"');
    expect(html).toContain('data-testid="report-reduce-duration-min" data-value=""');
    expect(html.match(/data-testid="report-bar"/g)).toHaveLength(3);
    expect(html).toContain('Failed in task <code>job-1/reduce/0</code>: TypeError: x is undefined');
    expect(html).toContain('<li><code>job-1/reduce/0</code> (4 attempts): TypeError: x is undefined</li>');
  });
});
