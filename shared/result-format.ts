/** Renders a job result for download. */
import type { KeyValue } from './job.ts';

/** A CSV field: strings as they are, everything else as JSON; quoted when needed (RFC 4180). */
function csvField(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // Quote on separators and line breaks, and on edge spaces that spreadsheet tools trim.
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The result as CSV with a `key,value` header, one row per key, CRLF line ends (RFC 4180). */
export function resultToCsv(result: KeyValue[]): string {
  const lines = ['key,value'];
  for (const [key, value] of result) lines.push(`${csvField(key)},${csvField(value)}`);
  return `${lines.join('\r\n')}\r\n`;
}
