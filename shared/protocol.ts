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

export type Ack<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** The Socket.IO namespace volunteers connect to. */
export const VOLUNTEER_NAMESPACE = '/volunteer';
/** The Socket.IO namespace dashboards connect to for live updates. */
export const DASHBOARD_NAMESPACE = '/dashboard';

export interface VolunteerHello {
  /** A short description of the volunteer, e.g. the browser's user agent. */
  agent: string;
  /** Worker slots this volunteer runs: how many tasks it may hold at once. */
  slots: number;
}

export interface VolunteerWelcome {
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

export interface MapAssignment extends AssignmentBase {
  kind: 'map';
  /** R: how many partitions to cut the map output into. */
  partitions: number;
  input: MapInputPayload;
}

export interface ReduceAssignment extends AssignmentBase {
  kind: 'reduce';
  partition: number;
  /** UTF-8 JSON of a `PartitionBlock[]`: every map task's block for this partition. */
  blocks: Bytes;
}

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

export interface LeaseRef {
  taskId: string;
  leaseToken: string;
}

export interface TaskCompletion extends LeaseRef {
  output: TaskOutput;
  /** Ask for up to this many new tasks in the same round trip (default 0). */
  next?: number;
}

export interface TaskFailure extends LeaseRef {
  error: TaskError;
  /** Ask for up to this many new tasks in the same round trip (default 0). */
  next?: number;
}

/** The answer to a result: recorded, plus the new tasks asked for with `next`. */
export interface ResultReceipt {
  tasks: TaskAssignment[];
}

export interface JobSourceReply {
  jobId: string;
  name: string;
  source: string;
  /** SHA-256 of `source`, hex. */
  digest: string;
  /** Who submitted the job, as they chose to be shown to volunteers; absent if they said nothing. */
  submitter?: string;
}

export interface VolunteerToCoordinatorEvents {
  'volunteer:hello': (hello: VolunteerHello, ack: (reply: Ack<VolunteerWelcome>) => void) => void;
  'volunteer:slots': (update: { slots: number }) => void;
  'task:request': (request: { max: number }, ack: (reply: Ack<{ tasks: TaskAssignment[] }>) => void) => void;
  'task:complete': (completion: TaskCompletion, ack: (reply: Ack<ResultReceipt>) => void) => void;
  'task:fail': (failure: TaskFailure, ack: (reply: Ack<ResultReceipt>) => void) => void;
  'task:renew': (
    request: { leases: LeaseRef[] },
    ack: (reply: Ack<{ renewed: string[]; lost: string[] }>) => void,
  ) => void;
  'job:source': (request: { jobId: string }, ack: (reply: Ack<JobSourceReply>) => void) => void;
  /** Gives back leased tasks not started (the volunteer paused or took on less); answers the ids taken back. */
  'task:return': (request: { leases: LeaseRef[] }, ack: (reply: Ack<{ returned: string[] }>) => void) => void;
}

export interface CoordinatorToVolunteerEvents {
  /** New tasks may be leasable: ask with `task:request` if a slot is free. */
  'work:available': () => void;
  /** Stop these tasks: their job was cancelled or failed, or their lease was lost. */
  'task:revoke': (revocation: { taskIds: string[]; reason: string }) => void;
}

export interface DashboardSnapshot {
  jobs: JobSummary[];
  cluster: ClusterSummary;
}

export interface CoordinatorToDashboardEvents {
  'dashboard:snapshot': (snapshot: DashboardSnapshot) => void;
}

// The dashboard only listens.
export type DashboardToCoordinatorEvents = Record<string, never>;
