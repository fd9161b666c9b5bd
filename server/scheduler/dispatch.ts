/**
 * Which task a volunteer with a free slot gets: fair share between jobs, then backup
 * copies of slow tasks once a phase has nothing left to hand out.
 *
 * Free slots are shared fairly among running jobs: each pick goes to the job with the
 * fewest leases live, the oldest job first among equals, so a huge job never starves a
 * small one. Only the choice is made here; the scheduler leases what is chosen.
 */
import { isTerminal } from '../../shared/job-lifecycle.ts';
import { mayAddBackup, mayRunCopy, wantsCopy, type TaskPolicy } from '../../shared/task.ts';
import type { TaskRecord } from '../store/job-store.ts';
import { currentPhase, type JobRun } from './job-run.ts';
import type { LeaseTable } from './lease-table.ts';

/**
 * Backup copies: once a phase has nothing left to hand out, a volunteer with a free slot
 * may get a second copy of the task that has run longest, if it has run for at least
 * `minRunningMs` and `slowdownFactor` times the phase's mean task time so far, and has
 * an attempt left (a backup spends one, as any copy does).
 *
 * A task that waits in its holder's tab behind another (a tab holds its next task while
 * it runs one, so that no slot waits for a round trip) may get its copy at once, when the
 * phase's tasks take `waitingAfterMeanMs` or more on average: else an idle volunteer
 * watches the phase end one whole task later than it could. Whichever copy answers first
 * wins, and the other is revoked, most often before it has started.
 */
export interface BackupPolicy {
  enabled: boolean;
  minRunningMs: number;
  slowdownFactor: number;
  waitingAfterMeanMs: number;
}

export const DEFAULT_BACKUP_POLICY: BackupPolicy = { enabled: true, minRunningMs: 5000, slowdownFactor: 1.5, waitingAfterMeanMs: 250 };

/** What dispatch reads: the jobs in submission order, the live leases, each task's policy, and each volunteer's slots. */
export interface DispatchView {
  runs: Iterable<JobRun>;
  leases: LeaseTable;
  policy: (run: JobRun, task: TaskRecord) => TaskPolicy;
  slotsOf: (volunteerId: string) => number;
}

export interface Pick {
  run: JobRun;
  task: TaskRecord;
}

/**
 * Whether a queued task of the current phase may take a copy now: pending and out of
 * backoff, or short of copies for its vote; and, given a volunteer, one that volunteer
 * may run (a vote needs distinct volunteers).
 */
export function leasableNow(view: DispatchView, run: JobRun, nowMs: number, volunteerId?: string): (index: number) => boolean {
  const phase = currentPhase(run);
  return (index) => {
    const task = run.tasks.at(phase, index);
    return wantsCopy(task.state, nowMs, view.policy(run, task)) && (volunteerId === undefined || mayRunCopy(task.state, volunteerId));
  };
}

/**
 * Most tasks one request may lease: the volunteer's even share of what is queued, and
 * never less than its slots. A volunteer asks for up to two batches of tiny tasks, 2,048
 * of them; without this the first ten of a thousand volunteers took a 20,000-task job
 * and the rest waited.
 */
export function fairShare(view: DispatchView, volunteers: number, slots: number): number {
  let queued = 0;
  for (const run of view.runs) if (!isTerminal(run.job.state)) queued += run.queue.size;
  return Math.max(slots, 1, Math.ceil(queued / Math.max(1, volunteers)));
}

/** Whether some job has a task any volunteer could lease now. */
export function anyLeasable(view: DispatchView, nowMs: number): boolean {
  for (const run of view.runs) {
    if (!isTerminal(run.job.state) && run.queue.some(leasableNow(view, run, nowMs))) return true;
  }
  return false;
}

/** Takes the next task for this volunteer off the queue of the job with the fewest leases. */
export function takeTask(view: DispatchView, volunteerId: string, nowMs: number): Pick | undefined {
  let best: JobRun | undefined;
  let bestRunning = 0;
  for (const run of view.runs) {
    if (isTerminal(run.job.state) || run.queue.size === 0) continue;
    const running = view.leases.countOfJob(run.job.id);
    if (best && running >= bestRunning) continue;
    if (run.queue.some(leasableNow(view, run, nowMs, volunteerId))) {
      best = run;
      bestRunning = running;
    }
  }
  if (!best) return undefined;
  const index = best.queue.takeFirst(leasableNow(view, best, nowMs, volunteerId))!;
  return { run: best, task: best.tasks.at(currentPhase(best), index) };
}

/**
 * The task most worth a backup copy on this volunteer: in a job whose current phase
 * has nothing left to hand out, a single-copy task that runs elsewhere, has an attempt
 * left, and is slow by the backup policy or waits in its holder's tab; one that waits
 * before one that runs, then the one leased longest ago.
 */
export function pickBackup(view: DispatchView, policy: BackupPolicy, volunteerId: string, nowMs: number): Pick | undefined {
  if (!policy.enabled) return undefined;
  let best: (Pick & { leasedAtMs: number; waits: boolean }) | undefined;
  let waiting: Set<TaskRecord> | undefined;
  for (const run of view.runs) {
    if (isTerminal(run.job.state) || run.queue.size > 0) continue;
    const phase = currentPhase(run);
    const meanMs = run.done[phase] > 0 ? run.doneMs[phase] / run.done[phase] : 0;
    const slowAfterMs = Math.max(policy.minRunningMs, meanMs * policy.slowdownFactor);
    const waitersCount = meanMs >= policy.waitingAfterMeanMs;
    for (const task of view.leases.tasksOfJob(run.job.id)) {
      const state = task.state;
      if (state.status !== 'leased' || state.leases.length !== 1) continue;
      const only = state.leases[0]!;
      // A vote needs distinct volunteers: not the one running it, nor one that answered it.
      // Without the attempts check, a task whose code never returns would be backed up
      // for ever, each copy started while the last still ran.
      if (!mayAddBackup(state, volunteerId, view.policy(run, task))) continue;
      const waits = waitersCount && (waiting ??= waitingInTabs(view)).has(task);
      if (!waits && nowMs - only.leasedAtMs < slowAfterMs) continue;
      if (!best || (waits && !best.waits) || (waits === best.waits && only.leasedAtMs < best.leasedAtMs)) {
        best = { run, task, leasedAtMs: only.leasedAtMs, waits };
      }
    }
  }
  return best && { run: best.run, task: best.task };
}

/**
 * The tasks that most likely wait in their holder's tab rather than run: of a volunteer
 * holding more leases than it has slots, the ones leased last, one per lease past its slots.
 */
function waitingInTabs(view: DispatchView): Set<TaskRecord> {
  const byVolunteer = new Map<string, { task: TaskRecord; leasedAtMs: number }[]>();
  for (const entry of view.leases.all()) {
    const lease = entry.task.state.status === 'leased' ? entry.task.state.leases.find((held) => held.token === entry.token) : undefined;
    if (!lease) continue;
    let held = byVolunteer.get(entry.volunteerId);
    if (!held) byVolunteer.set(entry.volunteerId, (held = []));
    held.push({ task: entry.task, leasedAtMs: lease.leasedAtMs });
  }
  const waiting = new Set<TaskRecord>();
  for (const [volunteerId, held] of byVolunteer) {
    const extra = held.length - view.slotsOf(volunteerId);
    if (extra <= 0) continue;
    held.sort((a, b) => b.leasedAtMs - a.leasedAtMs);
    for (const { task } of held.slice(0, extra)) waiting.add(task);
  }
  return waiting;
}
