import type { TaskSummary } from '../../shared/job.ts';
import { formatDuration } from './format.ts';

interface ThroughputChartProps {
  tasks: readonly TaskSummary[];
  /** The same time axis as the timeline's. */
  startMs: number;
  endMs: number;
}

const BUCKETS = 40;
const WIDTH = 760;
const HEIGHT = 90;

/** Tasks finished per second over the job's life, in equal slices of time. */
export function ThroughputChart({ tasks, startMs, endMs }: ThroughputChartProps) {
  const finished = tasks.filter((task) => task.finishedAtMs !== undefined && task.startedAtMs !== undefined);
  if (finished.length === 0) return null;
  const spanMs = Math.max(1, endMs - startMs);
  const bucketMs = spanMs / BUCKETS;
  const counts = new Array<number>(BUCKETS).fill(0);
  for (const task of finished) counts[Math.min(BUCKETS - 1, Math.floor((task.finishedAtMs! - startMs) / bucketMs))]!++;
  const rates = counts.map((count) => count / (bucketMs / 1000));
  const peak = Math.max(...rates, 1e-9);
  const barWidth = WIDTH / BUCKETS;
  return (
    <figure className="throughput" data-testid="throughput-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + 16}`} role="img" aria-label={`throughput: up to ${peak.toFixed(1)} tasks per second over ${formatDuration(spanMs)}`}>
        {rates.map((rate, i) => (
          <rect key={i} x={i * barWidth + 1} width={barWidth - 2} y={HEIGHT - (rate / peak) * HEIGHT} height={(rate / peak) * HEIGHT} className="throughput-bar">
            <title>{`${formatDuration(i * bucketMs)}–${formatDuration((i + 1) * bucketMs)}: ${rate.toFixed(1)} tasks/s`}</title>
          </rect>
        ))}
        <text x={0} y={HEIGHT + 14} className="timeline-label">
          0 s
        </text>
        <text x={WIDTH} y={HEIGHT + 14} className="timeline-label" textAnchor="end">
          {formatDuration(spanMs)}
        </text>
      </svg>
      <figcaption>Tasks finished per second (peak {peak.toFixed(1)})</figcaption>
    </figure>
  );
}
