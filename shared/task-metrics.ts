/**
 * Spark's task metrics for a job's phases: for the map and the reduce tasks that are
 * done, the minimum, 25th percentile, median, 75th percentile and maximum of their
 * duration (lease to accepted answer), input bytes and output bytes. Shown in the
 * dashboard's job view and in the job report (server/job-report.ts), from the same
 * `GET /api/jobs/:id/tasks` summaries, so the two always agree.
 */
import type { TaskSummary } from './job.ts';

export interface Quantiles {
  min: number;
  p25: number;
  median: number;
  p75: number;
  max: number;
}

export interface PhaseMetrics {
  /** Tasks done in this phase, which the quantiles are over. */
  tasks: number;
  durationMs: Quantiles | undefined;
  inputBytes: Quantiles | undefined;
  outputBytes: Quantiles | undefined;
}

export type TaskMetrics = Record<TaskSummary['kind'], PhaseMetrics>;

/**
 * The quantiles of `values` by the nearest-rank method (each is one of the values, as in
 * Spark's UI: no interpolation between two tasks); undefined when there are none.
 */
export function quantiles(values: readonly number[]): Quantiles | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction: number) => sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)]!;
  return { min: sorted[0]!, p25: at(0.25), median: at(0.5), p75: at(0.75), max: sorted.at(-1)! };
}

export function taskMetrics(tasks: readonly TaskSummary[]): TaskMetrics {
  const phase = (kind: TaskSummary['kind']): PhaseMetrics => {
    const done = tasks.filter((task) => task.kind === kind && task.status === 'done');
    const of = (pick: (task: TaskSummary) => number | undefined) => quantiles(done.map(pick).filter((value): value is number => value !== undefined));
    return { tasks: done.length, durationMs: of((task) => task.durationMs), inputBytes: of((task) => task.inputBytes), outputBytes: of((task) => task.outputBytes) };
  };
  return { map: phase('map'), reduce: phase('reduce') };
}
