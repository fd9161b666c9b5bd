/** Renders a job result for download. */
import type { KeyValue } from './job.ts';

/** A CSV field: strings as they are, everything else as JSON; quoted when needed (RFC 4180). */
function csvField(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // Quote on separators and line breaks, and on edge spaces that spreadsheet tools trim.
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const CSV_HEADER = 'key,value\r\n';

/** One CSV row per pair, each ending in CRLF: a part of a CSV result, so a large one can be written piece by piece. */
export function csvRows(pairs: Iterable<KeyValue>): string {
  let rows = '';
  for (const [key, value] of pairs) rows += `${csvField(key)},${csvField(value)}\r\n`;
  return rows;
}

/** The result as CSV with a `key,value` header, one row per key, CRLF line ends (RFC 4180). */
export function resultToCsv(result: Iterable<KeyValue>): string {
  return CSV_HEADER + csvRows(result);
}
