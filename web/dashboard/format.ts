import type { JobInput } from '../../shared/job.ts';

const bytesFormat = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const BYTE_UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${bytesFormat.format(value)} ${BYTE_UNITS[unit]}`;
}

/** 83_500 → "1 min 23.5 s"; under a second in ms. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A wall-clock time: just the time today, the date as well on other days. */
export function formatTimestamp(ms: number): string {
  const date = new Date(ms);
  const sameDay = new Date().toDateString() === date.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const countFormat = new Intl.NumberFormat('en');

export const formatCount = (count: number): string => countFormat.format(count);

/** A one-line description of a job input, e.g. "3 files, 1.2 KiB" or "numbers 0 to 99". */
export function describeInput(input: JobInput): string {
  switch (input.kind) {
    case 'texts': {
      const bytes = input.files.reduce((sum, file) => sum + new TextEncoder().encode(file.text).length, 0);
      const files = input.files.length === 1 ? `1 file (${input.files[0]!.name})` : `${formatCount(input.files.length)} files`;
      return `${files}, ${formatBytes(bytes)} of text`;
    }
    case 'records':
      return `${formatCount(input.records.length)} records`;
    case 'range':
      return `the numbers ${formatCount(input.from)} to ${formatCount(input.to - 1)}`;
    case 'files':
      return input.files.length === 1 ? '1 uploaded file' : `${formatCount(input.files.length)} uploaded files`;
    case 'job':
      return `the result of job ${input.id}`;
    default: {
      const unreachable: never = input;
      return unreachable;
    }
  }
}

/** A file name for the job's downloads: its name with anything unsafe in a file name replaced. */
export function downloadBaseName(jobName: string): string {
  const safe = jobName
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return `${safe || 'job'}-result`;
}
