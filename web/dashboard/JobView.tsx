import { useEffect, useState } from 'react';
import { TERMINAL_JOB_STATUSES } from '../../shared/job-lifecycle.ts';
import type { JobSummary } from '../../shared/job.ts';
import { ApiError } from '../../client/api-client.ts';
import { useApiClient } from './api-context.ts';
import { formatBytes, formatDuration, formatTimestamp } from './format.ts';
import { JobResult } from './JobResult.tsx';
import { JobActivity } from './JobActivity.tsx';
import { ProgressBar } from './ProgressBar.tsx';
import { StateBadge } from './StateBadge.tsx';
import { TaskList } from './TaskList.tsx';
import { POLL_INTERVAL_MS } from './use-dashboard-feed.ts';

/**
 * A rough time left for a running job: tasks left times the mean time per finished task
 * so far (wall time since it started ÷ tasks done). Absent before the first task ends.
 */
function eta(job: JobSummary): string | undefined {
  if (job.startedAtMs === undefined || job.finishedAtMs !== undefined) return undefined;
  const done = job.progress.map.done + job.progress.reduce.done;
  const left = job.progress.map.total + job.progress.reduce.total - done;
  if (done === 0 || left <= 0) return undefined;
  return `about ${formatDuration(((Date.now() - job.startedAtMs) / done) * left)} left at the pace so far`;
}

interface JobViewProps {
  jobId: string;
  /** The job as the live feed last reported it; undefined when the feed has not listed it (yet). */
  feedJob: JobSummary | undefined;
}

/**
 * One job: state, progress, error or result, and a way to cancel it. Mount it with
 * `key={jobId}` so nothing from one job's view lingers in the next one's.
 */
export function JobView({ jobId, feedJob }: JobViewProps) {
  const api = useApiClient();
  // The feed lacks a job just submitted (until the next snapshot) and jobs older than the
  // snapshot's newest hundred: fetch those directly, and keep polling one still running.
  const [fetched, setFetched] = useState<JobSummary | undefined>(undefined);
  const [fetchError, setFetchError] = useState<string | undefined>(undefined);
  const [cancelRequested, setCancelRequested] = useState(false);
  const [cancelError, setCancelError] = useState<string | undefined>(undefined);
  const inFeed = feedJob !== undefined;

  useEffect(() => {
    if (inFeed) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      try {
        const job = await api.getJob(jobId, controller.signal);
        setFetched(job);
        setFetchError(undefined);
        if (TERMINAL_JOB_STATUSES.includes(job.state)) return;
      } catch (error) {
        if (controller.signal.aborted) return;
        setFetchError((error as Error).message);
        if (error instanceof ApiError && error.status === 404) return;
      }
      timer = setTimeout(() => void poll(), POLL_INTERVAL_MS);
    };
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [api, jobId, inFeed]);

  const job = feedJob ?? fetched;
  if (!job) {
    return (
      <section className="panel job-view" aria-labelledby="job-heading">
        <h2 id="job-heading">Job {jobId}</h2>
        {fetchError ? (
          <p role="alert" className="error-text">
            {fetchError}
          </p>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>
    );
  }

  const terminal = TERMINAL_JOB_STATUSES.includes(job.state);
  const cancel = async () => {
    setCancelRequested(true);
    setCancelError(undefined);
    try {
      await api.cancelJob(job.id);
    } catch (error) {
      setCancelRequested(false);
      setCancelError((error as Error).message);
    }
  };

  return (
    <section className="panel job-view" aria-labelledby="job-heading">
      <div className="job-view-head">
        <h2 id="job-heading">{job.name}</h2>
        <StateBadge state={job.state} testId="job-state" />
      </div>
      <p className="muted job-id">
        Job <code>{job.id}</code>
      </p>

      <div className="progress-group">
        <ProgressBar label="Map" progress={job.progress.map} testId="map-progress" />
        <ProgressBar label="Reduce" progress={job.progress.reduce} testId="reduce-progress" />
        {eta(job) && (
          <p className="muted" data-testid="job-eta">
            {eta(job)}
          </p>
        )}
      </div>

      <dl className="job-facts">
        <div>
          <dt>Submitted</dt>
          <dd>{formatTimestamp(job.submittedAtMs)}</dd>
        </div>
        {job.startedAtMs !== undefined && job.finishedAtMs !== undefined && (
          <div>
            <dt>Took</dt>
            <dd>{formatDuration(job.finishedAtMs - job.startedAtMs)}</dd>
          </div>
        )}
        <div>
          <dt>Input</dt>
          <dd>{formatBytes(job.inputBytes)}</dd>
        </div>
        <div>
          <dt>Reducers</dt>
          <dd>{job.reducers}</dd>
        </div>
        <div>
          <dt>Tasks running</dt>
          <dd>{job.running}</dd>
        </div>
        <div>
          <dt>Volunteers used</dt>
          <dd>{job.volunteersUsed}</dd>
        </div>
        <div>
          <dt>Retries</dt>
          <dd>{job.retries}</dd>
        </div>
        <div>
          <dt>Backup copies</dt>
          <dd data-testid="job-backups">
            {job.backups.started} started, {job.backups.won} won
          </dd>
        </div>
        <div>
          <dt>Verification</dt>
          <dd data-testid="job-verification">
            {job.replication > 1
              ? `replication ${job.replication}: ${job.votes.decided} tasks decided by vote, ${job.votes.disputed} disputed`
              : job.spotCheck
                ? `spot check of ${Math.round(job.spotCheck * 1000) / 10}% of tasks: ${job.votes.decided} checked, ${job.votes.disputed} disputed`
                : 'none (replication 1): each task trusts its first answer'}
          </dd>
        </div>
      </dl>

      {!terminal && (
        <button
          type="button"
          className="danger"
          data-testid="cancel-job"
          disabled={cancelRequested}
          onClick={() => void cancel()}
        >
          {cancelRequested ? 'Cancelling…' : 'Cancel job'}
        </button>
      )}
      {cancelError && (
        <p role="alert" className="error-text">
          Could not cancel: {cancelError}
        </p>
      )}

      {job.state === 'failed' && job.error && (
        <div className="job-error" data-testid="job-error">
          <h3>
            {job.error.name}: {job.error.message}
          </h3>
          {job.error.taskId && (
            <p>
              In task <code>{job.error.taskId}</code>
            </p>
          )}
          {job.error.stack && (
            <details>
              <summary>Stack trace</summary>
              <pre>{job.error.stack}</pre>
            </details>
          )}
        </div>
      )}

      {job.state === 'succeeded' && <JobResult job={job} />}

      {job.startedAtMs !== undefined && <JobActivity job={job} />}
      <TaskList jobId={job.id} />
    </section>
  );
}
