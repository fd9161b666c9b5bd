/**
 * The batched wire: many tasks in one message, their binary parts packed into the one
 * `data` buffer a Socket.IO packet may carry without hitting its limit of ten
 * attachments. Both directions, both sides:
 *
 *   coordinator  packTaskBatch(assignments) ─▶ { tasks, data } ─▶ unpackTaskBatch   volunteer
 *   coordinator  unpackReports               ◀─ { results, data } ◀─ packReports     volunteer
 *
 * Tiny tasks are limited by messages, not work: one message per task capped a tab at
 * about a thousand tasks a second, so the runtime claims and reports them by the hundred.
 * What comes from a volunteer is untrusted: every range is checked against the buffer,
 * and a bad one refuses that result alone.
 */
import type {
  ByteRange,
  MapInputPayload,
  PackedAssignment,
  PackedMapInput,
  TaskAssignment,
  TaskBatch,
  TaskOutput,
  TaskReport,
  TaskReportBatch,
} from './protocol.ts';
import type { TaskError } from './errors.ts';
import { toUint8Array } from './byte-packing.ts';


/** Concatenates parts into one buffer; answers it and each part's range. */
function concatenate(parts: readonly Uint8Array[]): { data: Uint8Array; ranges: ByteRange[] } {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const data = new Uint8Array(length);
  const ranges: ByteRange[] = [];
  let at = 0;
  for (const part of parts) {
    data.set(part, at);
    ranges.push([at, at + part.byteLength]);
    at += part.byteLength;
  }
  return { data, ranges };
}

/** Assignments as one message: each input (or reduce's blocks) a range of `data`. */
export function packTaskBatch(assignments: readonly TaskAssignment[]): TaskBatch {
  const { data, ranges } = concatenate(assignments.map((task) => (task.kind === 'reduce' ? toUint8Array(task.blocks) : 'url' in task.input ? new Uint8Array(0) : toUint8Array(task.input.bytes))));
  const tasks = assignments.map((task, i): PackedAssignment => {
    const at = ranges[i]!;
    if (task.kind === 'reduce') return { ...task, blocks: at };
    if ('url' in task.input) return { ...task, input: task.input };
    const input: PackedMapInput = task.input.format === 'text' ? { format: 'text', key: task.input.key, at } : { format: 'json', at };
    return { ...task, input };
  });
  return { tasks, data };
}

/**
 * The assignments of a batch. Each binary part gets an ArrayBuffer of its own (a copy,
 * unless it is the whole buffer), so it can be transferred to a worker: posting a view
 * would clone the whole buffer under it. Throws a RangeError on a range outside `data`.
 */
export function unpackTaskBatch(batch: TaskBatch): TaskAssignment[] {
  const data = toUint8Array(batch.data);
  const part = ([start, end]: ByteRange): ArrayBuffer => {
    if (!validRange([start, end], data.byteLength)) throw new RangeError(`task bytes ${start}..${end} lie outside the batch's ${data.byteLength}`);
    if (start === 0 && end === data.byteLength && data.byteOffset === 0 && data.buffer.byteLength === end && data.buffer instanceof ArrayBuffer) return data.buffer;
    // A copy made by the Uint8Array constructor: a Node Buffer's own `slice` is a view.
    return new Uint8Array(data.subarray(start, end)).buffer as ArrayBuffer;
  };
  return batch.tasks.map((task): TaskAssignment => {
    if (task.kind === 'reduce') return { ...task, blocks: part(task.blocks) };
    if ('url' in task.input) return { ...task, input: task.input };
    const { at, ...rest } = task.input;
    const input: MapInputPayload = rest.format === 'text' ? { format: 'text', key: rest.key, bytes: part(at) } : { format: 'json', bytes: part(at) };
    return { ...task, input };
  });
}

/** One task's end as the runtime has it: its output, or its failure. */
export type TaskEnd = { taskId: string; leaseToken: string } & ({ output: TaskOutput } | { error: TaskError });

/** Ends of tasks as one report (its `next` left to the caller): outputs' bytes packed into `data`. */
export function packReports(ends: readonly TaskEnd[]): Omit<TaskReportBatch, 'next'> {
  const parts = ends.map((end) => ('output' in end ? toUint8Array(end.output.kind === 'map' ? end.output.blocks : end.output.pairs) : new Uint8Array(0)));
  const { data, ranges } = concatenate(parts);
  const results = ends.map((end, i): TaskReport => {
    const { taskId, leaseToken } = end;
    if (!('output' in end)) return { taskId, leaseToken, error: end.error };
    const [start, finish] = ranges[i]!;
    if (end.output.kind === 'reduce') return { taskId, leaseToken, output: { kind: 'reduce', at: [start, finish] } };
    return { taskId, leaseToken, output: { kind: 'map', offsets: end.output.offsets.map((offset) => offset + start) } };
  });
  return { results, data };
}

/** A report's result, unpacked: the task's end, or why its ranges cannot be read. */
export type UnpackedReport = { end: TaskEnd; problem?: undefined } | { end?: undefined; problem: string; taskId: string; leaseToken: string };

/** The ends a report carries, outputs as views into its buffer (no copy). */
export function unpackReports(report: Pick<TaskReportBatch, 'results' | 'data'>): UnpackedReport[] {
  const data = toUint8Array(report.data);
  return report.results.map((result): UnpackedReport => {
    const { taskId, leaseToken } = result;
    if ('error' in result) return { end: { taskId, leaseToken, error: result.error } };
    const { output } = result;
    if (output.kind === 'reduce') {
      if (!validRange(output.at, data.byteLength)) return { problem: `the reduce output's bytes ${output.at.join('..')} lie outside the report's ${data.byteLength}`, taskId, leaseToken };
      return { end: { taskId, leaseToken, output: { kind: 'reduce', pairs: data.subarray(output.at[0], output.at[1]) } } };
    }
    const { offsets } = output;
    const start = offsets[0]!;
    const end = offsets[offsets.length - 1]!;
    if (!validRange([start, end], data.byteLength)) return { problem: `the map output's bytes ${start}..${end} lie outside the report's ${data.byteLength}`, taskId, leaseToken };
    // Relative offsets, checked (monotone, whole) with the output itself by the coordinator.
    return { end: { taskId, leaseToken, output: { kind: 'map', blocks: data.subarray(start, end), offsets: offsets.map((offset) => offset - start) } } };
  });
}

function validRange([start, end]: ByteRange, length: number): boolean {
  return Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= length;
}
