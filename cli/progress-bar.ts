/**
 * Progress of a submission on stderr: on a terminal, one line redrawn in place
 *
 *   mapping   [███████████░░░░░░░░░░░░░]  12/40 map · 0/3 reduce · 5.1 tasks/s · 2.3 MiB/s
 *
 * and elsewhere (a log, a CI job, a pipe) plain lines, one per phase and at most one a
 * second while the counts move, so a log shows the job's course without a flood.
 */
import type { SubmitProgress } from '../client/index.ts';
import { formatBytes } from '../shared/format-bytes.ts';

export interface ProgressReporter {
  /** Takes the latest progress; cheap to call at every poll. */
  update(progress: SubmitProgress): void;
  /** Ends the display: a terminal line is completed, a plain log gets the last state if it was not printed. */
  finish(): void;
}

export interface ProgressOptions {
  /** Redraw in place (a terminal) or print lines. Default: whether the stream is a TTY. */
  tty?: boolean;
  /** Current time in ms; replaceable for tests. */
  now?: () => number;
  /** Shortest gap between two plain lines while the counts move, in ms. Default 1,000. */
  plainEveryMs?: number;
  /** Added to the queued state's text, e.g. where volunteers can join. */
  queuedHint?: string;
}

/** Rates measured since the phase's first sample; undefined until some time has passed. */
interface Rates {
  tasksPerSecond?: number;
  bytesPerSecond?: number;
}

const REDRAW_EVERY_MS = 100;
/** A rate over less time than this says more about polling than about the job. */
const MIN_RATE_WINDOW_MS = 1_000;

export function progressReporter(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, options: ProgressOptions = {}): ProgressReporter {
  const tty = options.tty ?? Boolean(stream.isTTY);
  const now = options.now ?? Date.now;
  const plainEveryMs = options.plainEveryMs ?? 1_000;
  const meter = new RateMeter();
  let last: SubmitProgress | undefined;
  let lastLine = '';
  let lastDrawMs = -Infinity;
  let printedPhase: string | undefined;
  let printedCounts = '';
  let drawn = false;
  let uploadStartMs: number | undefined;

  const line = (progress: SubmitProgress) => describeProgress(progress, meter.rates(progress, now()), options.queuedHint);
  const redraw = (progress: SubmitProgress) => {
    const text = fit(`${progress.phase.padEnd(9)} ${bar(fraction(progress), 24)}  ${line(progress)}`, (stream.columns || 80) - 1);
    if (text === lastLine) return;
    lastLine = text;
    drawn = true;
    stream.write(`\r${text}\x1b[K`);
  };

  return {
    update(progress) {
      const phaseChanged = progress.phase !== last?.phase;
      last = progress;
      const at = now();
      meter.sample(progress, at);
      if (tty) {
        if (!phaseChanged && at - lastDrawMs < REDRAW_EVERY_MS) return;
        lastDrawMs = at;
        redraw(progress);
        return;
      }
      // A quick upload is not worth a line; a slow one gets one a second once it has taken a second.
      uploadStartMs ??= progress.phase === 'uploading' ? at : undefined;
      if (progress.phase === 'uploading' && at - uploadStartMs! < plainEveryMs) return;
      const counts = countsOf(progress);
      if (progress.phase === printedPhase && (counts === printedCounts || at - lastDrawMs < plainEveryMs)) return;
      printedPhase = progress.phase;
      printedCounts = counts;
      lastDrawMs = at;
      stream.write(`${progress.phase}: ${line(progress)}\n`);
    },
    finish() {
      if (tty) {
        // The last update may have come within the redraw interval: show where it ended.
        if (last) redraw(last);
        if (drawn) stream.write('\n');
        return;
      }
      if (last && last.phase !== 'uploading' && countsOf(last) !== printedCounts) stream.write(`${last.phase}: ${line(last)}\n`);
    },
  };
}

/** The text after the phase name: counts, then rates when known. */
export function describeProgress(progress: SubmitProgress, rates: Rates = {}, queuedHint?: string): string {
  if (progress.phase === 'uploading') {
    const parts = [progress.totalBytes > 0 ? `${formatBytes(progress.sentBytes)} of ${formatBytes(progress.totalBytes)}` : 'sending the job'];
    if (rates.bytesPerSecond !== undefined) parts.push(`${formatBytes(rates.bytesPerSecond)}/s`);
    return parts.join(' · ');
  }
  const { map, reduce } = progress.job.progress;
  const parts = [`${map.done}/${map.total} map`, `${reduce.done}/${reduce.total} reduce`];
  if (rates.tasksPerSecond !== undefined) parts.push(`${rates.tasksPerSecond.toFixed(1)} tasks/s`);
  if (rates.bytesPerSecond !== undefined && progress.job.inputBytes > 0) parts.push(`${formatBytes(rates.bytesPerSecond)}/s`);
  if (progress.phase === 'queued' && queuedHint) parts.push(queuedHint);
  if (progress.phase === 'failed' && progress.job.error) parts.push(`${progress.job.error.name}: ${progress.job.error.message}`.split('\n')[0]!);
  return parts.join(' · ');
}

/** How far along the whole submission is, 0 to 1: bytes while uploading, tasks after. */
function fraction(progress: SubmitProgress): number {
  if (progress.phase === 'uploading') return progress.totalBytes > 0 ? progress.sentBytes / progress.totalBytes : 0;
  if (progress.phase === 'succeeded') return 1;
  const { map, reduce } = progress.job.progress;
  const total = map.total + reduce.total;
  return total > 0 ? (map.done + reduce.done) / total : 0;
}

const countsOf = (progress: SubmitProgress): string =>
  progress.phase === 'uploading'
    ? `${progress.sentBytes}`
    : `${progress.phase} ${progress.job.progress.map.done} ${progress.job.progress.reduce.done}`;

export function bar(done: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, done)) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

function fit(text: string, columns: number): string {
  return text.length <= columns ? text : `${text.slice(0, Math.max(0, columns - 1))}…`;
}

/**
 * Throughput since the first sample of the current stage (the upload, or the job once
 * it runs): tasks finished per second, and input bytes per second (bytes sent while
 * uploading; afterwards the input's size times the share of map tasks done).
 */
class RateMeter {
  #stage: 'upload' | 'job' | undefined;
  #startMs = 0;
  #startTasks = 0;
  #startBytes = 0;

  sample(progress: SubmitProgress, atMs: number): void {
    const stage = progress.phase === 'uploading' ? 'upload' : progress.phase === 'queued' ? undefined : 'job';
    if (stage === undefined || stage === this.#stage) return;
    this.#stage = stage;
    this.#startMs = atMs;
    this.#startTasks = tasksDone(progress);
    this.#startBytes = bytesDone(progress);
  }

  rates(progress: SubmitProgress, atMs: number): Rates {
    const elapsedMs = atMs - this.#startMs;
    if (this.#stage === undefined || elapsedMs < MIN_RATE_WINDOW_MS) return {};
    const perSecond = (delta: number) => (delta * 1000) / elapsedMs;
    if (progress.phase === 'uploading') return { bytesPerSecond: perSecond(progress.sentBytes - this.#startBytes) };
    return { tasksPerSecond: perSecond(tasksDone(progress) - this.#startTasks), bytesPerSecond: perSecond(bytesDone(progress) - this.#startBytes) };
  }
}

const tasksDone = (progress: SubmitProgress): number =>
  progress.phase === 'uploading' ? 0 : progress.job.progress.map.done + progress.job.progress.reduce.done;

function bytesDone(progress: SubmitProgress): number {
  if (progress.phase === 'uploading') return progress.sentBytes;
  const { map } = progress.job.progress;
  return map.total > 0 ? (progress.job.inputBytes * map.done) / map.total : 0;
}
