import { defaultRecordsPerTask, type InlineJobInput, type MapTaskInput } from './job.ts';

/** UTF-8 length of one UTF-16 code unit (a surrogate half counts 2, so a pair counts 4). */
const utf8UnitBytes = (unit: number): number => (unit < 0x80 ? 1 : unit < 0x800 || (unit >= 0xd800 && unit <= 0xdfff) ? 2 : 3);

/** UTF-8 byte length of a string, without allocating an encoded copy. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) bytes += utf8UnitBytes(text.charCodeAt(i));
  return bytes;
}

/**
 * Cuts `text` into pieces of about `splitBytes` UTF-8 bytes, only ever just after a
 * newline: a piece ends at the last line end that keeps it within `splitBytes`, or, when
 * one line is longer than that, at the end of that line. Concatenated, the pieces are
 * exactly `text`.
 */
export function splitAtLines(text: string, splitBytes: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let bytes = 0;
    let i = start;
    while (i < text.length && bytes < splitBytes) bytes += utf8UnitBytes(text.charCodeAt(i++));
    if (i >= text.length) {
      pieces.push(text.slice(start));
      break;
    }
    let lineEnd = text.lastIndexOf('\n', i - 1);
    if (lineEnd < start) lineEnd = text.indexOf('\n', i);
    const end = lineEnd === -1 ? text.length : lineEnd + 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

export interface SplitOptions {
  splitBytes: number;
  recordsPerTask?: number;
}

/** The map tasks' inputs for a job input, in order. An empty input gives no tasks. */
export function splitInput(input: InlineJobInput, options: SplitOptions): MapTaskInput[] {
  switch (input.kind) {
    case 'texts':
      return input.files.flatMap((file) =>
        splitAtLines(file.text, options.splitBytes).map((piece): MapTaskInput => ({ kind: 'text', key: file.name, text: piece })),
      );
    case 'records': {
      const perTask = options.recordsPerTask ?? defaultRecordsPerTask(input.records.length);
      const tasks: MapTaskInput[] = [];
      for (let i = 0; i < input.records.length; i += perTask) {
        tasks.push({ kind: 'records', records: input.records.slice(i, i + perTask) });
      }
      return tasks;
    }
    case 'range': {
      const count = Math.max(0, input.to - input.from);
      const perTask = options.recordsPerTask ?? defaultRecordsPerTask(count);
      const tasks: MapTaskInput[] = [];
      for (let from = input.from; from < input.to; from += perTask) {
        tasks.push({ kind: 'range', from, to: Math.min(input.to, from + perTask) });
      }
      return tasks;
    }
    default: {
      const unreachable: never = input;
      return unreachable;
    }
  }
}

/** Size of an input in UTF-8 bytes as the dashboard reports it (texts: the files; else: its JSON). */
export function inputBytes(input: InlineJobInput): number {
  switch (input.kind) {
    case 'texts':
      return input.files.reduce((sum, file) => sum + utf8Length(file.text), 0);
    case 'records': {
      // Batch by batch: one JSON.stringify of millions of records held a copy of the whole input at once.
      const batchRecords = 10_000;
      // The brackets, and the commas between records.
      let bytes = 2 + Math.max(0, input.records.length - 1);
      for (let i = 0; i < input.records.length; i += batchRecords) {
        const batch = input.records.slice(i, i + batchRecords);
        bytes += utf8Length(JSON.stringify(batch)) - 2 - (batch.length - 1);
      }
      return bytes;
    }
    case 'range':
      return 0;
  }
}
