import { useId } from 'react';
import type { Progress } from '../../shared/job.ts';
import { formatCount } from './format.ts';

interface ProgressBarProps {
  /** Names the bar for assistive technology, e.g. "Map". */
  label: string;
  progress: Progress;
  /** Put on the "done/total" text, which is exactly e.g. "3/10". */
  testId?: string;
}

/** A labelled bar with a "done/total" count beside it. */
export function ProgressBar({ label, progress, testId }: ProgressBarProps) {
  const labelId = useId();
  const { done, total } = progress;
  // Before the coordinator has split the input, total is 0: show an empty bar, not a full one.
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  return (
    <div className="progress">
      <span id={labelId} className="progress-label">
        {label}
      </span>
      <div
        className="progress-track"
        role="progressbar"
        aria-labelledby={labelId}
        aria-valuemin={0}
        aria-valuemax={Math.max(total, 1)}
        aria-valuenow={done}
        aria-valuetext={`${formatCount(done)} of ${formatCount(total)} tasks done`}
      >
        <div className="progress-fill" style={{ width: `${fraction * 100}%` }} />
      </div>
      <span className="progress-count" data-testid={testId}>
        {done}/{total}
      </span>
    </div>
  );
}
