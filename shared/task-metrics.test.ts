import { describe, expect, it } from 'vitest';
import type { TaskSummary } from './job.ts';
import { quantiles, taskMetrics } from './task-metrics.ts';

const done = (kind: 'map' | 'reduce', durationMs: number, inputBytes?: number, outputBytes?: number): TaskSummary => ({
  id: `job/${kind}/${durationMs}`,
  kind,
  index: 0,
  status: 'done',
  attemptsStarted: 1,
  durationMs,
  ...(inputBytes !== undefined ? { inputBytes } : {}),
  ...(outputBytes !== undefined ? { outputBytes } : {}),
});

describe('task metrics', () => {
  it('takes quantiles by nearest rank: each is one of the values', () => {
    expect(quantiles([40, 10, 30, 20])).toEqual({ min: 10, p25: 10, median: 20, p75: 30, max: 40 });
    expect(quantiles([7])).toEqual({ min: 7, p25: 7, median: 7, p75: 7, max: 7 });
    expect(quantiles([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({ min: 1, p25: 3, median: 5, p75: 8, max: 10 });
    expect(quantiles([])).toBeUndefined();
  });

  it('summarizes each phase over its done tasks only, leaving out what a task did not record', () => {
    const pending: TaskSummary = { id: 'job/map/9', kind: 'map', index: 9, status: 'pending', attemptsStarted: 0 };
    const metrics = taskMetrics([done('map', 100, 1000, 50), done('map', 300, 3000, 70), done('map', 200, 2000), pending, done('reduce', 5, 120, 40)]);
    expect(metrics.map).toEqual({
      tasks: 3,
      durationMs: { min: 100, p25: 100, median: 200, p75: 300, max: 300 },
      inputBytes: { min: 1000, p25: 1000, median: 2000, p75: 3000, max: 3000 },
      outputBytes: { min: 50, p25: 50, median: 50, p75: 70, max: 70 },
    });
    expect(metrics.reduce.tasks).toBe(1);
    expect(taskMetrics([]).reduce).toEqual({ tasks: 0, durationMs: undefined, inputBytes: undefined, outputBytes: undefined });
  });
});
