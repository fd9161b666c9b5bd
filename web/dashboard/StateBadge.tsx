import type { JobStatus } from '../../shared/job-lifecycle.ts';

interface StateBadgeProps {
  state: JobStatus;
  testId?: string;
}

/** A job's state as a coloured pill; the text is exactly the state's name. */
export function StateBadge({ state, testId }: StateBadgeProps) {
  return (
    <span className={`badge badge-${state}`} data-testid={testId}>
      {state}
    </span>
  );
}
