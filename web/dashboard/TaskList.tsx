import { useState } from 'react';
import type { TaskSummary } from '../../shared/job.ts';
import { useApiClient } from './api-context.ts';
import { formatCount, formatDuration } from './format.ts';

/** Rows shown at first and per "Show more"; a big job has a million tasks. */
const ROWS_PER_PAGE = 100;

interface TaskListProps {
  jobId: string;
}

type TaskLoad =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'loaded'; tasks: TaskSummary[] }
  | { status: 'failed'; message: string };

/**
 * A job's tasks, for finding the slow or failing ones. Fetched when opened and on
 * request only: the list can be long, and snapshots arrive many times a second.
 */
export function TaskList({ jobId }: TaskListProps) {
  const api = useApiClient();
  const [load, setLoad] = useState<TaskLoad>({ status: 'idle' });
  const [rowLimit, setRowLimit] = useState(ROWS_PER_PAGE);

  const fetchTasks = async () => {
    setLoad({ status: 'loading' });
    try {
      setLoad({ status: 'loaded', tasks: await api.listTasks(jobId) });
    } catch (error) {
      setLoad({ status: 'failed', message: (error as Error).message });
    }
  };

  return (
    <details
      className="task-list"
      onToggle={(event) => {
        if (event.currentTarget.open && load.status === 'idle') void fetchTasks();
      }}
    >
      <summary>Tasks</summary>
      <button type="button" onClick={() => void fetchTasks()} disabled={load.status === 'loading'}>
        Refresh tasks
      </button>
      {load.status === 'loading' && <p className="muted">Loading tasks…</p>}
      {load.status === 'failed' && (
        <p role="alert" className="error-text">
          Could not load the tasks: {load.message}
        </p>
      )}
      {load.status === 'loaded' && (
        <>
          <div className="table-scroll">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Took</th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {load.tasks.slice(0, rowLimit).map((task) => (
                  <tr key={task.id}>
                    <td>
                      {task.kind} {task.index}
                    </td>
                    <td>
                      {task.status}
                      {task.copies !== undefined && task.copies > 1 && ` (${task.copies} copies: backup running)`}
                      {task.byBackup && ' (by backup)'}
                    </td>
                    <td>{task.attemptsStarted}</td>
                    <td>{task.durationMs === undefined ? '' : formatDuration(task.durationMs)}</td>
                    <td className="wrap-anywhere">
                      {task.lastError ? `${task.lastError.name}: ${task.lastError.message}` : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rowLimit < load.tasks.length && (
            <p className="table-footer">
              <span>
                Showing {formatCount(rowLimit)} of {formatCount(load.tasks.length)} tasks
              </span>
              <button type="button" onClick={() => setRowLimit((limit) => limit + ROWS_PER_PAGE)}>
                Show more
              </button>
            </p>
          )}
        </>
      )}
    </details>
  );
}
