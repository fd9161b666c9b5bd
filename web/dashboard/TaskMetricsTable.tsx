import type { TaskSummary } from '../../shared/job.ts';
import { formatBytes } from '../../shared/format-bytes.ts';
import { taskMetrics, type Quantiles } from '../../shared/task-metrics.ts';
import { formatDuration } from './format.ts';

const COLUMNS = ['min', 'p25', 'median', 'p75', 'max'] as const;
const HEADINGS: Record<(typeof COLUMNS)[number], string> = { min: 'min', p25: '25th', median: 'median', p75: '75th', max: 'max' };

/** Spark's task metrics for each phase, over its done tasks: the same numbers as the job report's (shared/task-metrics.ts). */
export function TaskMetricsTable({ tasks }: { tasks: readonly TaskSummary[] }) {
  const metrics = taskMetrics(tasks);
  const row = (kind: 'map' | 'reduce', label: string, id: string, values: Quantiles | undefined, format: (value: number) => string) => (
    <tr key={`${kind}-${id}`}>
      <th scope="row">
        {kind} {label}
      </th>
      {COLUMNS.map((column) => (
        <td key={column} data-testid={`metrics-${kind}-${id}-${column}`}>
          {values ? format(values[column]) : '–'}
        </td>
      ))}
    </tr>
  );
  return (
    // Focusable: on a phone the table scrolls sideways, and a keyboard must be able to scroll it too.
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Task metrics">
      <table className="data-table task-metrics" data-testid="task-metrics">
        <caption>
          Task metrics over the tasks done ({metrics.map.tasks} map, {metrics.reduce.tasks} reduce)
        </caption>
        <thead>
          <tr>
            <th />
            {COLUMNS.map((column) => (
              <th key={column} scope="col">
                {HEADINGS[column]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {(['map', 'reduce'] as const).flatMap((kind) => [
            row(kind, 'duration', 'duration', metrics[kind].durationMs, formatDuration),
            row(kind, 'input', 'input', metrics[kind].inputBytes, formatBytes),
            row(kind, 'output', 'output', metrics[kind].outputBytes, formatBytes),
          ])}
        </tbody>
      </table>
    </div>
  );
}
