/**
 * A job's report: one self-contained HTML file (inline CSS and SVG, no script, nothing
 * fetched) to download and share, after Dask's `performance_report`. It holds what the
 * API says of the job (`GET /api/jobs/:id` and `/tasks`), laid out for a reader: the
 * job's times and throughput; Spark's task metrics for each phase (shared/task-metrics.ts,
 * the same numbers as the dashboard's job view); retries, backup copies, votes and errors;
 * and a timeline with one row per volunteer and one bar per task attempt.
 */
import type { JobSummary, TaskSummary } from '../shared/job.ts';
import { formatBytes } from '../shared/format-bytes.ts';
import { taskMetrics, type PhaseMetrics, type Quantiles } from '../shared/task-metrics.ts';

/** The report's own policy: no script at all, its styles inline, its images inline. */
export const REPORT_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** Bars drawn at most in the timeline: past this an SVG gets slow to open, and the shape is clear. */
const MAX_BARS = 5000;
const ROW_HEIGHT = 18;
const TIMELINE_WIDTH = 900;
const LABEL_WIDTH = 160;

const escapeHtml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

const ms = (value: number): string => (value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);
const iso = (atMs: number | undefined): string => (atMs === undefined ? '–' : new Date(atMs).toISOString());

export function renderJobReport(job: JobSummary, tasks: readonly TaskSummary[], generatedAtMs: number): string {
  const metrics = taskMetrics(tasks);
  const wallMs = job.startedAtMs !== undefined ? (job.finishedAtMs ?? generatedAtMs) - job.startedAtMs : undefined;
  const doneTasks = job.progress.map.done + job.progress.reduce.done;
  const failed = tasks.filter((task) => task.lastError);
  const figures: [string, string, string][] = [
    ['state', 'State', job.state],
    ['submitted', 'Submitted', iso(job.submittedAtMs)],
    ['started', 'Started', iso(job.startedAtMs)],
    ['finished', 'Finished', iso(job.finishedAtMs)],
    ['wall', 'Start to end', wallMs === undefined ? '–' : ms(wallMs)],
    ['map-tasks', 'Map tasks done', `${job.progress.map.done} of ${job.progress.map.total}`],
    ['reduce-tasks', 'Reduce tasks done', `${job.progress.reduce.done} of ${job.progress.reduce.total}`],
    ['throughput', 'Throughput', wallMs ? `${(doneTasks / (wallMs / 1000)).toFixed(1)} tasks/s${job.inputBytes > 0 ? `, ${formatBytes(job.inputBytes / (wallMs / 1000))}/s of input` : ''}` : '–'],
    ['input', 'Input', formatBytes(job.inputBytes)],
    ['volunteers', 'Volunteers used', String(job.volunteersUsed)],
    ['retries', 'Retries', String(job.retries)],
    ['backups', 'Backup copies (won)', `${job.backups.started} (${job.backups.won})`],
    ['votes', 'Votes decided (disputed)', `${job.votes.decided} (${job.votes.disputed})`],
    ['replication', 'Replication', String(job.replication)],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tabreduce report: ${escapeHtml(job.name)} (${escapeHtml(job.id)})</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(job.name)}</h1>
<p class="muted">tabreduce job <code>${escapeHtml(job.id)}</code>, report made ${iso(generatedAtMs)}</p>
${job.error ? `<p class="error" data-testid="report-error">Failed${job.error.taskId ? ` in task <code>${escapeHtml(job.error.taskId)}</code>` : ''}: ${escapeHtml(`${job.error.name}: ${job.error.message}`)}</p>` : ''}
<h2>The job</h2>
<dl class="figures">
${figures.map(([id, label, value]) => `<div><dt>${label}</dt><dd data-testid="report-${id}">${escapeHtml(value)}</dd></div>`).join('\n')}
</dl>
<h2>Task metrics</h2>
<p class="muted">Over the tasks done, nearest rank: duration from the winning lease to the accepted answer; bytes sent to and answered by that volunteer.</p>
${phaseTable('map', 'Map', metrics.map)}
${phaseTable('reduce', 'Reduce', metrics.reduce)}
<h2>Timeline</h2>
${timeline(tasks)}
<h2>Errors</h2>
${failed.length === 0 ? '<p class="muted" data-testid="report-no-errors">No task reported an error.</p>' : `<ul data-testid="report-errors">${failed.map((task) => `<li><code>${escapeHtml(task.id)}</code> (${task.attemptsStarted} attempts): ${escapeHtml(`${task.lastError!.name}: ${task.lastError!.message}`)}</li>`).join('')}</ul>`}
</body>
</html>
`;
}

function phaseTable(kind: string, title: string, phase: PhaseMetrics): string {
  const row = (label: string, id: string, values: Quantiles | undefined, format: (value: number) => string) =>
    `<tr><th scope="row">${label}</th>${(['min', 'p25', 'median', 'p75', 'max'] as const)
      .map((key) => `<td data-testid="report-${kind}-${id}-${key}" data-value="${values ? values[key] : ''}">${values ? format(values[key]) : '–'}</td>`)
      .join('')}</tr>`;
  return `<table class="metrics" data-testid="report-${kind}-metrics">
<caption>${title}: ${phase.tasks} tasks done</caption>
<thead><tr><th></th><th scope="col">min</th><th scope="col">25th</th><th scope="col">median</th><th scope="col">75th</th><th scope="col">max</th></tr></thead>
<tbody>
${row('Duration', 'duration', phase.durationMs, ms)}
${row('Input', 'input', phase.inputBytes, formatBytes)}
${row('Output', 'output', phase.outputBytes, formatBytes)}
</tbody>
</table>`;
}

interface Bar {
  volunteerId: string;
  startMs: number;
  endMs: number;
  kind: 'map' | 'reduce';
  outcome: 'done' | 'failed' | 'lost' | 'returned' | 'superseded';
  label: string;
}

/** One row per volunteer, one bar per attempt: the accepted ones by kind, the others by how they ended. */
function timeline(tasks: readonly TaskSummary[]): string {
  const bars: Bar[] = [];
  for (const task of tasks) {
    if (task.status === 'done' && task.volunteerId && task.startedAtMs !== undefined && task.finishedAtMs !== undefined) {
      bars.push({ volunteerId: task.volunteerId, startMs: task.startedAtMs, endMs: task.finishedAtMs, kind: task.kind, outcome: 'done', label: `${task.id}: ${ms(task.durationMs ?? 0)}` });
    }
    for (const attempt of task.pastAttempts ?? []) {
      bars.push({ volunteerId: attempt.volunteerId, startMs: attempt.startedAtMs, endMs: attempt.endedAtMs, kind: task.kind, outcome: attempt.outcome, label: `${task.id}: ${attempt.outcome}` });
    }
  }
  if (bars.length === 0) return '<p class="muted">No attempt has ended yet.</p>';
  const shown = bars.length > MAX_BARS ? [...bars].sort((a, b) => b.startMs - a.startMs).slice(0, MAX_BARS) : bars;
  const volunteers = [...new Set(shown.map((bar) => bar.volunteerId))].sort();
  const startMs = Math.min(...shown.map((bar) => bar.startMs));
  const spanMs = Math.max(1, Math.max(...shown.map((bar) => bar.endMs)) - startMs);
  const x = (atMs: number) => LABEL_WIDTH + ((atMs - startMs) / spanMs) * (TIMELINE_WIDTH - LABEL_WIDTH);
  const height = volunteers.length * ROW_HEIGHT + 24;
  const rows = volunteers.map(
    (volunteerId, row) => `<text x="4" y="${row * ROW_HEIGHT + 13}" class="label">${escapeHtml(volunteerId.slice(0, 22))}</text>`,
  );
  const rects = shown.map((bar) => {
    const left = x(bar.startMs);
    const width = Math.max(1, x(bar.endMs) - left);
    const row = volunteers.indexOf(bar.volunteerId);
    return `<rect x="${left.toFixed(1)}" y="${row * ROW_HEIGHT + 2}" width="${width.toFixed(1)}" height="${ROW_HEIGHT - 4}" class="${bar.outcome === 'done' ? bar.kind : bar.outcome}" data-testid="report-bar"><title>${escapeHtml(bar.label)}</title></rect>`;
  });
  return `${bars.length > MAX_BARS ? `<p class="muted">The latest ${MAX_BARS} of ${bars.length} attempts.</p>` : ''}
<svg viewBox="0 0 ${TIMELINE_WIDTH} ${height}" width="100%" role="img" aria-label="Task attempts over time, one row per volunteer" data-testid="report-timeline">
${rows.join('\n')}
${rects.join('\n')}
<text x="${LABEL_WIDTH}" y="${height - 6}" class="label">0</text>
<text x="${TIMELINE_WIDTH - 4}" y="${height - 6}" class="label" text-anchor="end">${ms(spanMs)}</text>
</svg>
<p class="legend"><span class="key map"></span>map <span class="key reduce"></span>reduce <span class="key failed"></span>failed <span class="key lost"></span>lost <span class="key superseded"></span>another copy won <span class="key returned"></span>handed back</p>`;
}

const STYLE = `
:root { color-scheme: light dark; --map: #3b82f6; --reduce: #a855f7; --failed: #dc2626; --lost: #f59e0b; --superseded: #9ca3af; --returned: #d1d5db; }
body { font: 15px/1.5 system-ui, sans-serif; max-width: 960px; margin: 2rem auto; padding: 0 1rem; }
h1 { margin-bottom: 0; } h2 { margin-top: 2rem; border-bottom: 1px solid #8884; }
.muted { opacity: 0.7; } .error { color: var(--failed); font-weight: 600; }
code { font-size: 0.9em; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 0.5rem 1.5rem; }
.figures dt { font-size: 0.8em; opacity: 0.7; } .figures dd { margin: 0; font-variant-numeric: tabular-nums; }
table.metrics { border-collapse: collapse; margin: 1rem 0; width: 100%; font-variant-numeric: tabular-nums; }
table.metrics caption { text-align: left; font-weight: 600; }
table.metrics th, table.metrics td { padding: 0.2rem 0.6rem; text-align: right; border-bottom: 1px solid #8883; }
table.metrics th[scope="row"] { text-align: left; }
svg .label { font-size: 11px; fill: currentColor; }
svg .map, .key.map { fill: var(--map); background: var(--map); } svg .reduce, .key.reduce { fill: var(--reduce); background: var(--reduce); }
svg .failed, .key.failed { fill: var(--failed); background: var(--failed); } svg .lost, .key.lost { fill: var(--lost); background: var(--lost); }
svg .superseded, .key.superseded { fill: var(--superseded); background: var(--superseded); } svg .returned, .key.returned { fill: var(--returned); background: var(--returned); }
.legend .key { display: inline-block; width: 0.8em; height: 0.8em; margin: 0 0.2rem 0 0.8rem; vertical-align: middle; }
`;
