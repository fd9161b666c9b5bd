import type { KeyValue } from '../../shared/job.ts';
import { cellText } from '../../shared/result-order.ts';
import { formatCount } from './format.ts';

interface TopValuesChartProps {
  pairs: readonly KeyValue[];
  /** How many bars. */
  top?: number;
}

/**
 * The keys with the largest numeric values as horizontal bars: the first question asked
 * of a word count. Shown only when some values are numbers. Plain HTML, so it reflows at
 * any width and reads out as a list.
 */
export function TopValuesChart({ pairs, top = 10 }: TopValuesChartProps) {
  const numeric = pairs.filter((pair): pair is [KeyValue[0], number] => typeof pair[1] === 'number' && Number.isFinite(pair[1]));
  if (numeric.length === 0) return null;
  const largest = [...numeric].sort((a, b) => b[1] - a[1]).slice(0, top);
  const max = Math.max(...largest.map(([, value]) => Math.abs(value)), 1);
  return (
    <figure className="top-chart" data-testid="top-chart">
      <figcaption>Top {largest.length} keys by value</figcaption>
      <ol>
        {largest.map(([key, value]) => (
          <li key={JSON.stringify(key)}>
            <span className="top-key wrap-anywhere" title={JSON.stringify(key)}>
              {cellText(key)}
            </span>
            <span className="top-bar-track" aria-hidden="true">
              <span className="top-bar" style={{ width: `${(Math.abs(value) / max) * 100}%` }} />
            </span>
            <span className="top-value">{formatCount(value)}</span>
          </li>
        ))}
      </ol>
    </figure>
  );
}
