/**
 * The scheduler's settings, and what it tells the outside world: the gateway turns its
 * announcements into Socket.IO messages, the coordinator into file clean-up and logs.
 */
import type { TaskKind } from '../../shared/task.ts';
import type { BackupPolicy } from './dispatch.ts';

/** What the scheduler counts as it goes, for `GET /metrics` (server/metrics.ts): each call is one event. */
export interface SchedulerMetrics {
  /** A task got its accepted answer, `durationMs` from its winning lease to that answer. */
  taskDone(kind: TaskKind, durationMs: number): void;
  /** Job code failed on a volunteer (threw, timed out, gave a bad answer). */
  taskFailed(kind: TaskKind): void;
  leaseExpired(): void;
  backupStarted(): void;
  /** Answers outvoted on a replicated task. */
  votesLost(count: number): void;
  /** Task input sent to volunteers, and output received from them. */
  bytesSent(bytes: number): void;
  bytesReceived(bytes: number): void;
}

/** Counts nothing: a scheduler without metrics (tests). */
export const NO_METRICS: SchedulerMetrics = {
  taskDone: () => {},
  taskFailed: () => {},
  leaseExpired: () => {},
  backupStarted: () => {},
  votesLost: () => {},
  bytesSent: () => {},
  bytesReceived: () => {},
};

export interface SchedulerOptions {
  /** How long a lease lasts without renewal, in ms. */
  leaseMs: number;
  /** How long a tab lets one task run before it kills the worker, in ms. */
  taskTimeoutMs: number;
  /** Delay before a failed task may run again, by attempts started so far. */
  backoffMs?: (attemptsStarted: number) => number;
  /** When idle slots may run backup copies of slow tasks (speculative execution). */
  backups?: BackupPolicy;
  /** How long a finished job (and its result) is kept, in ms; 0 keeps it forever. */
  resultRetentionMs?: number;
  /** Lost votes after which a volunteer's results are refused and it gets no work. Default 3. */
  maxStrikes?: number;
  /** The largest message a volunteer may send (TABREDUCE_MAX_MESSAGE_BYTES): a pipeline's next job is planned to fit it. Default: no limit. */
  maxMessageBytes?: number;
  /** Where events are counted. Default: nowhere. */
  metrics?: SchedulerMetrics;
  newLeaseToken: () => string;
}

/** What the scheduler tells the outside world; the gateway turns these into messages. */
export interface SchedulerListener {
  /** Tasks became leasable: these idle volunteers should ask. */
  workAvailable(volunteerIds: string[]): void;
  /** A volunteer must stop these tasks (job cancelled or failed, or the task has its answer). */
  revoke(volunteerId: string, taskIds: string[], reason: string): void;
  /** A volunteer should hand back up to `max` tasks it holds and has not started: another has nothing to do. */
  yieldTasks(volunteerId: string, max: number): void;
  /** Something the dashboard shows changed. */
  changed(): void;
  /** A job ended (succeeded, failed or cancelled): its intermediate data is gone. */
  jobEnded?(jobId: string): void;
  /** A failed commit took these jobs back to what the store holds (`error` says why it failed). */
  rolledBack?(jobIds: ReadonlySet<string>, error: unknown): void;
}
