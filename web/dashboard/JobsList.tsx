import type { JobSummary } from '../../shared/job.ts';
import { formatTimestamp } from './format.ts';
import { StateBadge } from './StateBadge.tsx';

interface JobsListProps {
  /** Newest first; undefined while loading. */
  jobs: JobSummary[] | undefined;
  selectedId: string | undefined;
  onSelect: (id: string) => void;
}

/** Every job, newest first; a row selects its job. */
export function JobsList({ jobs, selectedId, onSelect }: JobsListProps) {
  return (
    <section className="panel" aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Jobs</h2>
      {jobs === undefined && <p className="muted">Loading…</p>}
      {jobs?.length === 0 && <p className="muted">No jobs yet: submit one above.</p>}
      <ul className="jobs-list" data-testid="jobs-list">
        {jobs?.map((job) => (
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
                <span>
                  map {job.progress.map.done}/{job.progress.map.total}
                </span>
                <span>
                  reduce {job.progress.reduce.done}/{job.progress.reduce.total}
                </span>
                <time dateTime={new Date(job.submittedAtMs).toISOString()}>{formatTimestamp(job.submittedAtMs)}</time>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
