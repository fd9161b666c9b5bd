import { useId, useState } from 'react';
import type { JobSummary } from '../../shared/job.ts';
import type { JobStatus } from '../../shared/job-lifecycle.ts';
import { formatBytes, formatDuration, formatTimestamp } from './format.ts';
import { StateBadge } from './StateBadge.tsx';

interface JobsListProps {
  /** Newest first; undefined while loading. */
  jobs: JobSummary[] | undefined;
  selectedId: string | undefined;
  onSelect: (id: string) => void;
}

/** The states the filter offers; "running" covers every state a job can still leave. */
const FILTERS = {
  all: () => true,
  running: (state: JobStatus) => state === 'queued' || state === 'mapping' || state === 'reducing',
  succeeded: (state: JobStatus) => state === 'succeeded',
  failed: (state: JobStatus) => state === 'failed',
  cancelled: (state: JobStatus) => state === 'cancelled',
} as const;
type Filter = keyof typeof FILTERS;

/** How long a job ran, or has been running. */
function duration(job: JobSummary, nowMs: number): string {
  if (job.startedAtMs === undefined) return 'not started';
  return formatDuration((job.finishedAtMs ?? nowMs) - job.startedAtMs);
}

/** Every job, newest first (kept across restarts by the store), filtered by state; a row selects its job. */
export function JobsList({ jobs, selectedId, onSelect }: JobsListProps) {
  const [filter, setFilter] = useState<Filter>('all');
  const filterId = useId();
  const shown = jobs?.filter((job) => FILTERS[filter](job.state));
  const nowMs = Date.now();
  return (
    <section className="panel" aria-labelledby="jobs-heading">
      <div className="panel-head">
        <h2 id="jobs-heading">Jobs</h2>
        <label htmlFor={filterId} className="inline-label">
          Show
          <select id={filterId} data-testid="jobs-filter" value={filter} onChange={(event) => setFilter(event.target.value as Filter)}>
            {Object.keys(FILTERS).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {jobs === undefined && <p className="muted">Loading…</p>}
      {jobs?.length === 0 && <p className="muted">No jobs yet: submit one above.</p>}
      {jobs !== undefined && jobs.length > 0 && shown?.length === 0 && <p className="muted">No {filter} jobs.</p>}
      <ul className="jobs-list" data-testid="jobs-list">
        {shown?.map((job) => (
          <li key={job.id} data-testid="job-row" data-job-id={job.id}>
            <button
              type="button"
              className="job-row-button"
              aria-current={job.id === selectedId ? 'true' : undefined}
              onClick={() => onSelect(job.id)}
            >
              <span className="job-row-head">
                <span className="job-row-name">{job.name}</span>
                <StateBadge state={job.state} />
              </span>
              <span className="job-row-meta">
                <time dateTime={new Date(job.submittedAtMs).toISOString()}>{formatTimestamp(job.submittedAtMs)}</time>
                <span>{duration(job, nowMs)}</span>
                <span>{job.inputBytes > 0 ? formatBytes(job.inputBytes) : 'range input'}</span>
                <span>
                  {job.progress.map.total + job.progress.reduce.total} tasks (map {job.progress.map.done}/{job.progress.map.total}, reduce{' '}
                  {job.progress.reduce.done}/{job.progress.reduce.total})
                </span>
                <span>
                  {job.volunteersUsed} {job.volunteersUsed === 1 ? 'volunteer' : 'volunteers'}
                </span>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
