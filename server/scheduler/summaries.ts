/**
 * What the API and the dashboard show of the scheduler's state: job, task and cluster
 * summaries. Read-only views, built on request.
 */
import type { ClusterSummary, JobSummary, PastAttempt, TaskSummary } from '../../shared/job.ts';
import { isTerminal, jobStatus } from '../../shared/job-lifecycle.ts';
import type { TaskKind } from '../../shared/task.ts';
import type { JobRecord, TaskRecord } from '../store/job-store.ts';
import type { JobRun } from './job-run.ts';
import type { LeaseTable } from './lease-table.ts';
import type { Reputations } from './reputation.ts';
import type { Volunteer } from './volunteers.ts';

export function summarizeJob(run: JobRun, running: number): JobSummary {
  return summarizeJobRecord(run.job, { mapsDone: run.done.map, reducesDone: run.done.reduce, running, volunteersUsed: run.volunteersUsed.size, retries: run.retries, backups: run.backups, votes: run.votes });
}

/** What a job's summary counts beside its record: kept by its run here, by its row's counters in a cluster (cluster/job-catalog.ts). */
export interface JobCounters {
  mapsDone: number;
  reducesDone: number;
  /** Live leases. */
  running: number;
  volunteersUsed: number;
  retries: number;
  backups: { started: number; won: number };
  votes: { decided: number; disputed: number };
}

export function summarizeJobRecord(job: JobRecord, counters: JobCounters): JobSummary {
  const state = job.state;
  return {
    id: job.id,
    name: job.name,
    state: jobStatus(state, counters.mapsDone, job.mapTasks),
    progress: {
      map: { done: counters.mapsDone, total: job.mapTasks },
      reduce: { done: counters.reducesDone, total: job.reducers },
    },
    ...(state.status === 'failed' ? { error: state.error } : {}),
    submittedAtMs: job.submittedAtMs,
    ...('startedAtMs' in state ? { startedAtMs: state.startedAtMs } : {}),
    ...('finishedAtMs' in state ? { finishedAtMs: state.finishedAtMs } : {}),
    reducers: job.reducers,
    inputBytes: job.inputBytes,
    sourceDigest: job.sourceDigest,
    running: counters.running,
    volunteersUsed: counters.volunteersUsed,
    retries: counters.retries,
    backups: { ...counters.backups },
    replication: job.replication,
    ...(job.spotCheck ? { spotCheck: job.spotCheck } : {}),
    votes: { ...counters.votes },
  };
}

export function summarizeTask(task: TaskRecord, pastAttempts: PastAttempt[] | undefined): TaskSummary {
  const state = task.state;
  return {
    ...(pastAttempts ? { pastAttempts } : {}),
    id: task.id,
    kind: task.kind,
    index: task.index,
    status: state.status,
    attemptsStarted: state.attemptsStarted,
    ...(state.status === 'leased' ? { volunteerId: state.leases[0]!.volunteerId, copies: state.leases.length, startedAtMs: state.leases[0]!.leasedAtMs } : {}),
    ...(state.status === 'done'
      ? {
          volunteerId: state.volunteerId,
          durationMs: state.durationMs,
          startedAtMs: state.finishedAtMs - state.durationMs,
          finishedAtMs: state.finishedAtMs,
          byBackup: state.byBackup,
          ...(state.inputBytes !== undefined ? { inputBytes: state.inputBytes } : {}),
          ...(state.outputBytes !== undefined ? { outputBytes: state.outputBytes } : {}),
        }
      : {}),
    ...(state.status === 'failed' ? { lastError: state.error } : {}),
    ...((state.status === 'pending' || state.status === 'leased') && state.lastError ? { lastError: state.lastError } : {}),
    ...(state.votes
      ? {
          votes: state.votes.map((vote) => ({
            volunteerId: vote.volunteerId,
            digest: vote.digest.slice(0, 12),
            ...(state.status === 'done' ? { agreed: vote.digest === state.digest } : {}),
          })),
        }
      : {}),
  };
}

export function summarizeCluster(volunteers: Iterable<Volunteer>, leases: LeaseTable, reputations: Reputations): ClusterSummary {
  const volunteerList = [...volunteers].map((volunteer) => ({
    id: volunteer.id,
    agent: volunteer.agent,
    slots: volunteer.slots,
    running: leases.countOfVolunteer(volunteer.id),
    tasksDone: volunteer.tasksDone,
    tasksFailed: volunteer.tasksFailed,
    connectedAtMs: volunteer.connectedAtMs,
    ...(volunteer.answers > 0 ? { meanTaskMs: Math.round(volunteer.answeredMs / volunteer.answers) } : {}),
    bytesSent: volunteer.bytesSent,
    bytesReceived: volunteer.bytesReceived,
    ...reputations.of(volunteer.id),
  }));
  return {
    volunteers: volunteerList.length,
    slots: volunteerList.reduce((sum, volunteer) => sum + volunteer.slots, 0),
    busySlots: leases.size,
    volunteerList,
  };
}

/** Tasks of the jobs still running, by kind: done, running (a live lease, backups counted once) and waiting. */
export type TaskCounts = Record<TaskKind, { waiting: number; running: number; done: number }>;

/** Counts the live jobs' tasks for `GET /metrics`: from the runs' counters and the leases, never a walk of every task. */
export function countLiveTasks(runs: Iterable<JobRun>, leases: LeaseTable): TaskCounts {
  const counts: TaskCounts = { map: { waiting: 0, running: 0, done: 0 }, reduce: { waiting: 0, running: 0, done: 0 } };
  for (const run of runs) {
    if (isTerminal(run.job.state)) continue;
    const running = { map: 0, reduce: 0 };
    for (const task of leases.tasksOfJob(run.job.id)) running[task.kind]++;
    const totals = { map: run.job.mapTasks, reduce: run.job.reducers };
    for (const kind of ['map', 'reduce'] as const) {
      counts[kind].done += run.done[kind];
      counts[kind].running += running[kind];
      counts[kind].waiting += Math.max(0, totals[kind] - run.done[kind] - running[kind]);
    }
  }
  return counts;
}
