import type { JobSourceReply } from '../../shared/protocol.ts';

interface RunningJobsProps {
  jobs: JobSourceReply[];
}

/**
 * The jobs this tab is running code for, each with who submitted it, the digest of its
 * code and the code itself to read: nobody should run a stranger's code unseen.
 */
export function RunningJobs({ jobs }: RunningJobsProps) {
  if (jobs.length === 0) return <span className="muted">nothing right now</span>;
  return (
    <ul className="running-jobs" data-testid="running-jobs">
      {jobs.map((job) => (
        <li key={job.jobId}>
          <span className="wrap-anywhere" data-testid="running-job-name">
            {job.name}
          </span>
          <span className="muted">
            {' '}
            submitted by <span data-testid="running-job-submitter">{job.submitter ?? 'someone who did not say'}</span>
          </span>
          <div className="hint">
            code SHA-256 <code data-testid="running-job-digest" title={job.digest}>{job.digest.slice(0, 16)}</code>
          </div>
          <details className="job-code">
            <summary>Read the code</summary>
            <pre data-testid="running-job-source" tabIndex={0} aria-label={`the code of ${job.name}`}>
              {job.source}
            </pre>
          </details>
        </li>
      ))}
    </ul>
  );
}
