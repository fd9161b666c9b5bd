/**
 * Runtime schemas for everything that crosses a trust boundary: HTTP bodies from
 * submitters and Socket.IO payloads from volunteers. Types say what we expect; these
 * check what we got.
 *
 * The types stay the truth (job.ts, protocol.ts, errors.ts: they carry the docs), and
 * each schema is tied to its type with `satisfies z.ZodType<T>`, so a schema that lets
 * through something its type does not allow fails to compile. The other direction (a
 * field the type has and the schema forgot, or one only the schema has) is checked by
 * shared/protocol.types.test.ts, which asks that each schema's output equal its type.
 */
import { z } from 'zod';
import type { TaskError } from './errors.ts';
import type { JobInput, JobSubmission } from './job.ts';
import { isKey, MAX_KEY_DEPTH, type Key } from './keys.ts';
import { LIMITS } from './limits.ts';
import type { ByteRange, Bytes, LeaseRef, PackedTaskOutput, TaskOutput, TaskReport, VolunteerEvent, VolunteerPayload } from './protocol.ts';

const KEY_MESSAGE = `a key must be a string, a finite number, a boolean, or an array of those nested at most ${MAX_KEY_DEPTH} deep`;

/** A key (keys.ts); checked by `isKey`, whose depth limit keeps a hostile key from overflowing the stack. */
export const keySchema: z.ZodType<Key> = z.custom<Key>((value) => isKey(value), { message: KEY_MESSAGE });

/**
 * The records of a `records` input, checked where they lie. `z.array(z.tuple(...))` would
 * build a copy of every record, and bookkeeping objects for each, beside the parsed body:
 * for 5.6 million small records (a 32 MiB body) the coordinator peaked at 1,442 MB with
 * the copy and 684 MB without. At most three problems are reported, as describeZodError
 * shows no more.
 */
const recordsSchema = z
  .custom<[Key, unknown][]>((value) => Array.isArray(value), 'expected an array of [key, value] records')
  .superRefine((records, ctx) => {
    if (records.length < 1) ctx.addIssue({ code: 'custom', message: 'a records input needs at least one record' });
    if (records.length > LIMITS.records) ctx.addIssue({ code: 'custom', message: `a records input may hold at most ${LIMITS.records} records` });
    let problems = 0;
    for (let i = 0; i < records.length && problems < 3; i++) {
      const record: unknown = records[i];
      if (!Array.isArray(record) || record.length !== 2) {
        ctx.addIssue({ code: 'custom', path: [i], message: 'a record is a [key, value] pair' });
        problems++;
      } else if (!isKey(record[0])) {
        ctx.addIssue({ code: 'custom', path: [i, 0], message: KEY_MESSAGE });
        problems++;
      }
    }
  });

/** A job's `input`, one of five kinds; a `range` is refined to be non-empty and bounded. */
export const jobInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('texts'),
    files: z
      .array(
        z.strictObject({
          name: z.string().min(1).max(LIMITS.fileNameChars),
          text: z.string(),
        }),
      )
      .min(1, 'a texts input needs at least one file')
      .max(LIMITS.files),
  }),
  z.strictObject({
    kind: z.literal('records'),
    records: recordsSchema,
  }),
  z.strictObject({
    kind: z.literal('files'),
    files: z
      .array(
        z.strictObject({
          fileId: z.string().min(1).max(100),
          name: z.string().min(1).max(LIMITS.fileNameChars).optional(),
        }),
      )
      .min(1, 'a files input needs at least one uploaded file')
      .max(LIMITS.files),
  }),
  z.strictObject({
    kind: z.literal('job'),
    id: z.string().min(1, 'a job input names the job whose result it reads').max(100),
  }),
  z
    .strictObject({
      kind: z.literal('range'),
      from: z.int(),
      to: z.int(),
    })
    .refine((range) => range.to > range.from, 'a range input needs to > from (the range is from <= i < to)')
    .refine((range) => range.to - range.from <= LIMITS.rangeSize, `a range may hold at most ${LIMITS.rangeSize} numbers`),
]) satisfies z.ZodType<JobInput>;

/** The body of `POST /api/jobs`: unknown fields are refused, so a misspelt option is not silently ignored. */
export const jobSubmissionSchema = z.strictObject({
  name: z.string().trim().min(1, 'name must not be empty').max(LIMITS.nameChars),
  submitter: z.string().trim().max(LIMITS.nameChars).optional(),
  source: z.string().min(1, 'source must not be empty').max(LIMITS.sourceChars),
  input: jobInputSchema,
  reducers: z.int().min(1).max(LIMITS.reducers).optional(),
  splitBytes: z.int().min(LIMITS.minSplitBytes).max(LIMITS.maxSplitBytes).optional(),
  recordsPerTask: z.int().min(1).max(LIMITS.recordsPerTask).optional(),
  replication: z.int().min(1).max(16).optional(),
  spotCheck: z.number().min(0).max(1).optional(),
  maxAttempts: z.int().min(1).max(LIMITS.maxAttempts).optional(),
}) satisfies z.ZodType<JobSubmission>;

const bytesSchema = z.custom<Bytes>(
  (value) => value instanceof ArrayBuffer || value instanceof Uint8Array,
  'expected binary data',
);

const idSchema = z.string().min(1).max(200);

/**
 * A map output's R + 1 offsets: whole numbers >= 0, checked in one loop. As
 * `z.array(z.int().min(0))` the check cost 27 µs per result at R = 64, more than the rest
 * of the coordinator's work on a tiny task; this way it costs about one.
 */
const offsetsSchema = z.custom<number[]>(
  (value) => {
    if (!Array.isArray(value) || value.length < 2 || value.length > LIMITS.reducers + 1) return false;
    for (const offset of value) if (!Number.isSafeInteger(offset) || offset < 0) return false;
    return true;
  },
  { message: `offsets must be 2 to ${LIMITS.reducers + 1} whole numbers >= 0` },
);

/** A task failure as a volunteer reports it (`task:fail`); fields beyond name, message and stack are dropped, not refused. */
export const taskErrorSchema = z.object({
  name: z.string().max(200),
  message: z.string().max(LIMITS.errorMessageChars),
  stack: z.string().max(LIMITS.errorStackChars).optional(),
}) satisfies z.ZodType<TaskError>;

/** A task and the lease a volunteer claims on it. */
export const leaseRefSchema = z.strictObject({ taskId: idSchema, leaseToken: idSchema }) satisfies z.ZodType<LeaseRef>;

const leasesSchema = z.array(leaseRefSchema).max(LIMITS.tasksPerMessage);

const taskOutputSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('map'),
    blocks: bytesSchema,
    offsets: offsetsSchema,
  }),
  z.strictObject({ kind: z.literal('reduce'), pairs: bytesSchema }),
]) satisfies z.ZodType<TaskOutput>;

/** A range of a batch's buffer; that it lies inside the buffer is checked where the buffer is at hand (shared/task-batch.ts). */
const byteRangeSchema = z.tuple([z.int().min(0), z.int().min(0)]) satisfies z.ZodType<ByteRange>;

const packedOutputSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('map'), offsets: offsetsSchema }),
  z.strictObject({ kind: z.literal('reduce'), at: byteRangeSchema }),
]) satisfies z.ZodType<PackedTaskOutput>;

const taskReportSchema = z.union([
  z.strictObject({ taskId: idSchema, leaseToken: idSchema, output: packedOutputSchema }),
  z.strictObject({ taskId: idSchema, leaseToken: idSchema, error: taskErrorSchema }),
]) satisfies z.ZodType<TaskReport>;

/** One schema per event a volunteer may send, each checked against that event's payload type. */
export type VolunteerSchemaMap = { readonly [E in VolunteerEvent]: z.ZodType<VolunteerPayload<E>> };

/**
 * The schema of every event a volunteer may send, and so the list of those events: an
 * event missing here, one the protocol lacks, or a payload that differs fails to compile.
 */
export const volunteerSchemas = {
  'volunteer:hello': z.strictObject({
    agent: z.string().max(500),
    slots: z.int().min(0).max(LIMITS.slotsPerVolunteer),
  }),
  'volunteer:slots': z.strictObject({ slots: z.int().min(0).max(LIMITS.slotsPerVolunteer) }),
  'task:request': z.strictObject({ max: z.int().min(1).max(LIMITS.tasksPerRequest) }),
  'task:complete': z.strictObject({
    taskId: idSchema,
    leaseToken: idSchema,
    next: z.int().min(0).max(LIMITS.tasksPerRequest).optional(),
    output: taskOutputSchema,
  }),
  'task:fail': z.strictObject({
    taskId: idSchema,
    leaseToken: idSchema,
    error: taskErrorSchema,
    next: z.int().min(0).max(LIMITS.tasksPerRequest).optional(),
  }),
  'task:renew': z.strictObject({ leases: leasesSchema }),
  'job:source': z.strictObject({ jobId: idSchema }),
  'task:return': z.strictObject({ leases: leasesSchema }),
  'tasks:claim': z.strictObject({ max: z.int().min(1).max(LIMITS.tasksPerMessage) }),
  'tasks:report': z.strictObject({
    results: z.array(taskReportSchema).min(1).max(LIMITS.tasksPerMessage),
    data: bytesSchema,
    next: z.int().min(0).max(LIMITS.tasksPerMessage).optional(),
  }),
} as const satisfies VolunteerSchemaMap;

/** One line that says what is wrong, with the path of the first problem. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(body)';
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}
