import { useEffect, useState } from 'react';
import type { JobSummary, TaskSummary } from '../../shared/job.ts';
import { useApiClient } from './api-context.ts';
import { DownloadLink } from './DownloadLink.tsx';
import { formatCount } from './format.ts';
import { TaskMetricsTable } from './TaskMetricsTable.tsx';
import { firstStartMs, TaskTimeline } from './TaskTimeline.tsx';
import { ThroughputChart } from './ThroughputChart.tsx';

/** How often the charts refresh while the job runs. */
const REFRESH_MS = 1000;
/** Bars drawn at most: beyond this an SVG gets slow, and the shape is clear anyway. */
const MAX_BARS = 5000;

/**
 * The job's task timeline and throughput, refreshed every second while it runs and
 * while this section is open (a big job has many tasks to fetch).
 */
export function JobActivity({ job }: { job: JobSummary }) {
  const api = useApiClient();
  const [open, setOpen] = useState(true);
  const [tasks, setTasks] = useState<TaskSummary[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const running = job.finishedAtMs === undefined;

  useEffect(() => {
    if (!open) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        setTasks(await api.listTasks(job.id, controller.signal));
        setError(undefined);
      } catch (thrown) {
        if (!controller.signal.aborted) setError((thrown as Error).message);
      }
      if (running && !controller.signal.aborted) timer = setTimeout(() => void load(), REFRESH_MS);
    };
    void load();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [api, job.id, open, running]);

  const endMs = job.finishedAtMs ?? Date.now();
  const shown = tasks && tasks.length > MAX_BARS ? [...tasks].sort((a, b) => (b.startedAtMs ?? 0) - (a.startedAtMs ?? 0)).slice(0, MAX_BARS) : tasks;
  // One time axis for both charts, so a bar and the throughput under it line up.
  const startMs = (shown && firstStartMs(shown)) ?? endMs;
  return (
    <details className="job-activity" open={open} onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>Timeline, throughput and task metrics</summary>
      {error && (
        <p role="alert" className="error-text">
          Could not load the tasks: {error}
        </p>
      )}
      {tasks === undefined && !error && <p className="muted">Loading tasks…</p>}
      {shown && (
        <>
          {tasks!.length > MAX_BARS && <p className="muted">The latest {formatCount(MAX_BARS)} of {formatCount(tasks!.length)} tasks.</p>}
          <TaskTimeline tasks={shown} startMs={startMs} endMs={endMs} />
          <ThroughputChart tasks={shown} startMs={startMs} endMs={endMs} />
          <TaskMetricsTable tasks={tasks!} />
          {!running && (
            <p>
              <DownloadLink jobId={job.id} format="report" fileName={`tabreduce-report-${job.id}.html`} testId="download-report">
                Download the job report (HTML)
              </DownloadLink>
            </p>
          )}
        </>
      )}
    </details>
  );
}
