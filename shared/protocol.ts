/**
 * The Socket.IO wire protocol, typed once for the coordinator and the tabs. Event names
 * start with their subject; every request that expects an answer takes an ack callback
 * answering an `Ack`. Bulk data (task inputs, map output blocks, reduce output) travels
 * as binary UTF-8 JSON so neither side re-encodes what it only forwards, and each
 * message carries at most one buffer (Socket.IO refuses packets with over 10
 * attachments), see shared/byte-packing.ts.
 */
import type { WireError, TaskError } from './errors.ts';
import type { ClusterSummary, JobSummary } from './job.ts';

/** Binary as it arrives: a Buffer (Uint8Array) in Node, an ArrayBuffer in the browser. */
export type Bytes = ArrayBuffer | Uint8Array;

/** The answer to every volunteer request that takes an ack: the value asked for, or a refusal with a stable code. */
export type Ack<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** The Socket.IO namespace volunteers connect to. */
export const VOLUNTEER_NAMESPACE = '/volunteer';
/** The Socket.IO namespace dashboards connect to for live updates. */
export const DASHBOARD_NAMESPACE = '/dashboard';

/** `volunteer:hello`: the first thing a volunteer says on every connection. */
export interface VolunteerHello {
  /** A short description of the volunteer, e.g. the browser's user agent. */
  agent: string;
  /** Worker slots this volunteer runs: how many tasks it may hold at once. */
  slots: number;
}

/** The answer to `volunteer:hello`. */
export interface VolunteerWelcome {
  /** The id the coordinator knows this connection by (a reconnection is a new volunteer). */
  volunteerId: string;
  /** Lease length; the volunteer renews running tasks' leases well within it. */
  leaseMs: number;
}

interface AssignmentBase {
  taskId: string;
  jobId: string;
  index: number;
  leaseToken: string;
  /** Digest of the job source, so a tab can tell it already has the module loaded. */
  sourceDigest: string;
  /** The tab abandons (and reports as failed) a task that runs longer than this. */
  timeoutMs: number;
}

/**
 * A map task's input: records or a range as UTF-8 JSON of a `MapTaskInput`, or one
 * text record (a split of a text file) as raw UTF-8, so text is never JSON-escaped.
 */
export type MapInputPayload =
  | { format: 'json'; bytes: Bytes }
  | { format: 'text'; key: string; bytes: Bytes };

/**
 * A large split of an uploaded file, sent as where to fetch it (`GET url`: its raw UTF-8,
 * while the lease lives) rather than as bytes: the worker that maps it fetches it itself,
 * so bulk bytes never pass through the page, as in a plain program's workers.
 */
export type FetchedMapInput = { format: 'text'; key: string; url: string };

export interface MapAssignment extends AssignmentBase {
  kind: 'map';
  /** R: how many partitions to cut the map output into. */
  partitions: number;
  input: MapInputPayload | FetchedMapInput;
}

export interface ReduceAssignment extends AssignmentBase {
  kind: 'reduce';
  partition: number;
  /** UTF-8 JSON of a `PartitionBlock[]`: every map task's block for this partition. */
  blocks: Bytes;
}

/** A task leased to a volunteer, told apart by `kind`. */
export type TaskAssignment = MapAssignment | ReduceAssignment;

/** A finished task's answer. */
export type TaskOutput =
  /**
   * One UTF-8 JSON `PartitionBlock` per partition, packed: partition p is
   * `blocks[offsets[p]..offsets[p + 1]]` (see `packParts`).
   */
  | { kind: 'map'; blocks: Bytes; offsets: number[] }
  /** UTF-8 JSON of the `KeyValue[]` the reduce produced, sorted by key. */
  | { kind: 'reduce'; pairs: Bytes };

/** A task and the lease a volunteer holds on it: what every answer about a task must present. */
export interface LeaseRef {
  taskId: string;
  leaseToken: string;
}

/** `task:complete`: a task's output, under its lease. */
export interface TaskCompletion extends LeaseRef {
  output: TaskOutput;
  /** Ask for up to this many new tasks in the same round trip (default 0). */
  next?: number;
}

/** `task:fail`: why a task produced no output, under its lease. */
export interface TaskFailure extends LeaseRef {
  error: TaskError;
  /** Ask for up to this many new tasks in the same round trip (default 0). */
  next?: number;
}

/** The answer to a result: recorded, plus the new tasks asked for with `next`. */
export interface ResultReceipt {
  tasks: TaskAssignment[];
}

/** Bytes `[start, end)` of a batch's one `data` buffer. */
export type ByteRange = [start: number, end: number];

/** A map task's input on the batched wire: as `MapInputPayload`, its bytes a range of the batch's `data`. */
export type PackedMapInput = { format: 'json'; at: ByteRange } | { format: 'text'; key: string; at: ByteRange } | FetchedMapInput;

/** A task assignment on the batched wire: as `TaskAssignment`, its binary a range of the batch's `data`. */
export type PackedAssignment =
  | (Omit<MapAssignment, 'input'> & { input: PackedMapInput })
  | (Omit<ReduceAssignment, 'blocks'> & { blocks: ByteRange });

/**
 * Tasks leased in one message, with every binary part in one buffer (Socket.IO's limit
 * of ten attachments a packet): the answer to `tasks:claim`, and the new work a report
 * brings. shared/task-batch.ts packs and unpacks it.
 */
export interface TaskBatch {
  tasks: PackedAssignment[];
  data: Bytes;
}

/** A task's output on the batched wire: a map's R + 1 offsets into the report's `data`, or a reduce's range of it. */
export type PackedTaskOutput = { kind: 'map'; offsets: number[] } | { kind: 'reduce'; at: ByteRange };

/** One task's end in a `tasks:report`: its output, or the error it failed with. */
export type TaskReport = { taskId: string; leaseToken: string; output: PackedTaskOutput } | { taskId: string; leaseToken: string; error: TaskError };

/** `tasks:report`: the ends of many tasks in one message, their outputs' bytes in one buffer. */
export interface TaskReportBatch {
  results: TaskReport[];
  data: Bytes;
  /** Ask for up to this many new tasks in the same round trip (default 0). */
  next?: number;
}

/**
 * The answer to `tasks:report`, once what it reports is stored: one outcome per result in
 * order (`null`: recorded; an error: that result was refused, the others stand), and the
 * new tasks asked for with `next`.
 */
export interface ReportReceipt extends TaskBatch {
  outcomes: (WireError | null)[];
}

/** `tasks:claim`: a volunteer asks for up to `max` tasks, answered as one `TaskBatch`. */
export interface TaskClaim {
  max: number;
}

/** `volunteer:slots`: the volunteer now runs this many worker slots. */
export interface SlotsUpdate {
  slots: number;
}

/** `task:request`: a volunteer asks for up to `max` tasks. */
export interface TaskRequest {
  max: number;
}

/** The answer to `task:request`: the tasks leased, possibly fewer than asked for, possibly none. */
export interface TaskGrant {
  tasks: TaskAssignment[];
}

/** `task:renew` and `task:return`: the leases the request is about. */
export interface LeaseBatch {
  leases: LeaseRef[];
}

/** The answer to `task:renew`: task ids whose lease now runs longer, and those whose lease is gone. */
export interface RenewReceipt {
  renewed: string[];
  lost: string[];
}

/** The answer to `task:return`: the ids of the tasks taken back. */
export interface ReturnReceipt {
  returned: string[];
}

/** `job:source`: a volunteer asks for the code of a job it runs a task of. */
export interface JobSourceRequest {
  jobId: string;
}

/** The answer to `job:source`. */
export interface JobSourceReply {
  jobId: string;
  name: string;
  source: string;
  /** SHA-256 of `source`, hex. */
  digest: string;
  /** Who submitted the job, as they chose to be shown to volunteers; absent if they said nothing. */
  submitter?: string;
}

/**
 * What a volunteer sends. The gateway checks each payload against its schema in
 * shared/schemas.ts (`volunteerSchemas`, one per event, checked against this map by the
 * compiler) before anything else reads it.
 */
export interface VolunteerToCoordinatorEvents {
  'volunteer:hello': (hello: VolunteerHello, ack: (reply: Ack<VolunteerWelcome>) => void) => void;
  'volunteer:slots': (update: SlotsUpdate) => void;
  'task:request': (request: TaskRequest, ack: (reply: Ack<TaskGrant>) => void) => void;
  'task:complete': (completion: TaskCompletion, ack: (reply: Ack<ResultReceipt>) => void) => void;
  'task:fail': (failure: TaskFailure, ack: (reply: Ack<ResultReceipt>) => void) => void;
  'task:renew': (request: LeaseBatch, ack: (reply: Ack<RenewReceipt>) => void) => void;
  'job:source': (request: JobSourceRequest, ack: (reply: Ack<JobSourceReply>) => void) => void;
  /** Gives back leased tasks not started (the volunteer paused or took on less); answers the ids taken back. */
  'task:return': (request: LeaseBatch, ack: (reply: Ack<ReturnReceipt>) => void) => void;
  /** The batched forms: many tasks claimed, and many ended, per message (what the runtime uses). */
  'tasks:claim': (request: TaskClaim, ack: (reply: Ack<TaskBatch>) => void) => void;
  'tasks:report': (report: TaskReportBatch, ack: (reply: Ack<ReportReceipt>) => void) => void;
}

/** The name of an event a volunteer may send. */
export type VolunteerEvent = keyof VolunteerToCoordinatorEvents;

/** What a volunteer sends with event `E`. */
export type VolunteerPayload<E extends VolunteerEvent> = Parameters<VolunteerToCoordinatorEvents[E]>[0];

/** What the coordinator acks event `E` with when it succeeds; `never` for an event without an ack. */
export type VolunteerAckValue<E extends VolunteerEvent> =
  Parameters<VolunteerToCoordinatorEvents[E]>[1] extends (reply: Ack<infer Value>) => void ? Value : never;

/** `task:revoke`: tasks a volunteer must stop, and why (for its log). */
export interface TaskRevocation {
  taskIds: string[];
  reason: string;
}

/** `tasks:yield`: another volunteer has nothing to do; hand back (`task:return`) up to `max` tasks held but not started. */
export interface YieldRequest {
  max: number;
}

/** What the coordinator sends a volunteer. */
export interface CoordinatorToVolunteerEvents {
  /** New tasks may be leasable: ask with `task:request` if a slot is free. */
  'work:available': () => void;
  /** Stop these tasks: their job was cancelled or failed, or their lease was lost. */
  'task:revoke': (revocation: TaskRevocation) => void;
  /** Hand back up to `max` tasks not started yet: a volunteer elsewhere is idle at a phase's end. */
  'tasks:yield': (request: YieldRequest) => void;
}

/** What a dashboard shows (the newest jobs, the volunteers), sent on connect and after changes (server/dashboard-feed.ts). */
export interface DashboardSnapshot {
  jobs: JobSummary[];
  cluster: ClusterSummary;
}

/** What the coordinator sends a dashboard. */
export interface CoordinatorToDashboardEvents {
  'dashboard:snapshot': (snapshot: DashboardSnapshot) => void;
}

/** What a dashboard sends: nothing, it only listens. */
export type DashboardToCoordinatorEvents = Record<string, never>;
