import type { TaskSummary } from '../../shared/job.ts';
import { formatDuration } from './format.ts';

interface TaskTimelineProps {
  tasks: readonly TaskSummary[];
  /** The time the chart starts at: the first attempt's start (`firstStartMs`). */
  startMs: number;
  /** The time the chart ends at: now while the job runs, its end after. */
  endMs: number;
}

/** When the first attempt of these tasks started, past attempts included; undefined if none has. */
export function firstStartMs(tasks: readonly TaskSummary[]): number | undefined {
  let first: number | undefined;
  for (const task of tasks) {
    for (const ms of [task.startedAtMs, ...(task.pastAttempts ?? []).map((attempt) => attempt.startedAtMs)]) {
      if (ms !== undefined && (first === undefined || ms < first)) first = ms;
    }
  }
  return first;
}

const ROW_HEIGHT = 18;

const OUTCOME_TEXT = {
  failed: 'the job code failed',
  lost: 'the lease was lost (tab closed, frozen or gone)',
  returned: 'handed back unstarted',
  superseded: 'stopped: another copy answered first',
} as const;
const LABEL_WIDTH = 110;
const WIDTH = 760;

/** What a bar's colour says: the kind of task and how its attempt ended (or that it runs). */
function barClass(task: TaskSummary): string {
  if (task.status === 'leased') return 'bar-running';
  return task.kind === 'map' ? 'bar-map' : 'bar-reduce';
}

/**
 * One row per volunteer (tab), one bar per task attempt it ran, from its lease to its
 * accepted answer (or to now while it runs), as Spark's stage timeline and Dask's task
 * stream draw them. Retried tasks have a dashed outline; backup copies that won, a dot.
 */
export function TaskTimeline({ tasks, startMs, endMs }: TaskTimelineProps) {
  const placed = tasks.filter((task) => task.startedAtMs !== undefined && task.volunteerId !== undefined);
  const past = tasks.flatMap((task) => (task.pastAttempts ?? []).map((attempt) => ({ task, attempt })));
  if (placed.length === 0 && past.length === 0) return <p className="muted">No task has started yet.</p>;
  const spanMs = Math.max(1, endMs - startMs);
  const volunteers = [...new Set([...placed.map((task) => task.volunteerId!), ...past.map(({ attempt }) => attempt.volunteerId)])].sort();
  const row = new Map(volunteers.map((id, i) => [id, i]));
  const x = (ms: number) => LABEL_WIDTH + ((ms - startMs) / spanMs) * (WIDTH - LABEL_WIDTH - 4);
  const height = volunteers.length * ROW_HEIGHT + 20;
  return (
    <figure className="timeline" data-testid="task-timeline">
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-label={`${placed.length} task attempts on ${volunteers.length} volunteers over ${formatDuration(spanMs)}`}>
        {volunteers.map((id, i) => (
          <g key={id}>
            <text x={0} y={i * ROW_HEIGHT + 13} className="timeline-label">
              {id}
            </text>
            <line x1={LABEL_WIDTH} x2={WIDTH} y1={(i + 1) * ROW_HEIGHT} y2={(i + 1) * ROW_HEIGHT} className="timeline-grid" />
          </g>
        ))}
        {past.map(({ task, attempt }) => {
          const y = row.get(attempt.volunteerId)! * ROW_HEIGHT + 3;
          const from = x(attempt.startedAtMs);
          return (
            <rect
              key={`${task.id}@${attempt.startedAtMs}@${attempt.volunteerId}`}
              data-testid="timeline-past-attempt"
              data-outcome={attempt.outcome}
              x={from}
              y={y}
              width={Math.max(1.5, x(attempt.endedAtMs) - from)}
              height={ROW_HEIGHT - 6}
              rx={2}
              className={attempt.outcome === 'failed' || attempt.outcome === 'lost' ? 'bar-failed' : 'bar-returned'}
            >
              <title>{`${task.id}: ${OUTCOME_TEXT[attempt.outcome]}${attempt.backup ? ' (a backup copy)' : ''}, after ${formatDuration(attempt.endedAtMs - attempt.startedAtMs)}`}</title>
            </rect>
          );
        })}
        {placed.map((task) => {
          const y = row.get(task.volunteerId!)! * ROW_HEIGHT + 3;
          const from = x(task.startedAtMs!);
          const to = x(task.finishedAtMs ?? endMs);
          const retried = task.attemptsStarted > 1;
          return (
            <g key={task.id} data-testid="timeline-bar" data-status={task.status}>
              <rect x={from} y={y} width={Math.max(1.5, to - from)} height={ROW_HEIGHT - 6} rx={2} className={`${barClass(task)}${retried ? ' bar-retried' : ''}`}>
                <title>
                  {`${task.id}: ${task.status}${task.durationMs !== undefined ? `, ${formatDuration(task.durationMs)}` : ''}${retried ? `, attempt ${task.attemptsStarted}` : ''}${task.byBackup ? ', a backup copy won' : ''}`}
                </title>
              </rect>
              {task.byBackup && <circle cx={to - 3} cy={y + (ROW_HEIGHT - 6) / 2} r={2.5} className="bar-backup" />}
            </g>
          );
        })}
        <text x={LABEL_WIDTH} y={height - 4} className="timeline-label">
          0 s
        </text>
        <text x={WIDTH - 4} y={height - 4} className="timeline-label" textAnchor="end">
          {formatDuration(spanMs)}
        </text>
      </svg>
      <figcaption className="legend">
        <span><i className="swatch bar-map" /> map</span>
        <span><i className="swatch bar-reduce" /> reduce</span>
        <span><i className="swatch bar-running" /> running</span>
        <span><i className="swatch bar-retried" /> retried</span>
        <span><i className="swatch bar-failed" /> failed or lost</span>
        <span><i className="swatch bar-returned" /> handed back or beaten by another copy</span>
        <span><i className="swatch-dot" /> backup copy won</span>
      </figcaption>
    </figure>
  );
}
