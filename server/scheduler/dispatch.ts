/**
 * Which task a volunteer with a free slot gets: fair share between jobs, then backup
 * copies of slow tasks once a phase has nothing left to hand out, and who is asked to
 * hand back a task it holds unstarted when another volunteer has none.
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
import type { Volunteer } from './volunteers.ts';

/**
 * Backup copies: once a phase has nothing left to hand out, a volunteer with a free slot
 * may get a second copy of the task that has run longest, if it has run for at least
 * `minRunningMs` and `slowdownFactor` times the phase's mean task time so far, and has
 * an attempt left (a backup spends one, as any copy does).
 */
export interface BackupPolicy {
  enabled: boolean;
  minRunningMs: number;
  slowdownFactor: number;
}

export const DEFAULT_BACKUP_POLICY: BackupPolicy = { enabled: true, minRunningMs: 5000, slowdownFactor: 1.5 };

/** What dispatch reads: the jobs in submission order, the live leases, and each task's policy. */
export interface DispatchView {
  runs: Iterable<JobRun>;
  leases: LeaseTable;
  policy: (run: JobRun, task: TaskRecord) => TaskPolicy;
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
  return shareOfQueue(queued, volunteers, slots);
}

/** One volunteer's even share of `queued` tasks among `volunteers`, and never less than its slots (the cluster counts its own queue). */
export function shareOfQueue(queued: number, volunteers: number, slots: number): number {
  return Math.max(slots, 1, Math.ceil(queued / Math.max(1, volunteers)));
}

/** An id no volunteer has: it holds no copy and cast no vote, so any backup would suit it. */
const NO_VOLUNTEER = '';

/**
 * Whom the timer wakes, among volunteers waiting for work, for what the passing of time
 * alone makes leasable: retries out of backoff (anyone may take them), or a task turned
 * slow enough for a backup (only volunteers that may run a copy of it). Undefined: nobody.
 */
export function wakeOnTime(view: DispatchView, backups: BackupPolicy, nowMs: number): { leasable: number; may?: (volunteerId: string) => boolean } | undefined {
  if (anyLeasable(view, nowMs)) return { leasable: Number.POSITIVE_INFINITY };
  // A backup runs only where no copy of its task runs, so the first volunteer waiting
  // may well be the one running the slow copy. Asking it alone left the others to their
  // 5 s safety poll: a looping map (4 attempts of 3 s, 3 tabs, backups after 1 s) took
  // 12.0 s to fail that way, 7.8 s when every waiting volunteer may be woken. The check
  // with an id nobody has comes first, so a sweep with nothing slow costs one pass.
  if (!pickBackup(view, backups, NO_VOLUNTEER, nowMs)) return undefined;
  return { leasable: 1, may: (volunteerId) => pickBackup(view, backups, volunteerId, nowMs) !== undefined };
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
 * has nothing left to hand out, the single-copy task that has run longest, if it is
 * slow by the backup policy, runs elsewhere and has an attempt left.
 */
export function pickBackup(view: DispatchView, policy: BackupPolicy, volunteerId: string, nowMs: number): Pick | undefined {
  if (!policy.enabled) return undefined;
  let best: (Pick & { leasedAtMs: number }) | undefined;
  for (const run of view.runs) {
    if (isTerminal(run.job.state) || run.queue.size > 0) continue;
    const phase = currentPhase(run);
    const meanMs = run.done[phase] > 0 ? run.doneMs[phase] / run.done[phase] : 0;
    const slowAfterMs = Math.max(policy.minRunningMs, meanMs * policy.slowdownFactor);
    for (const task of view.leases.tasksOfJob(run.job.id)) {
      const state = task.state;
      if (state.status !== 'leased' || state.leases.length !== 1) continue;
      const only = state.leases[0]!;
      // A vote needs distinct volunteers: not the one running it, nor one that answered it.
      // Without the attempts check, a task whose code never returns would be backed up
      // for ever, each copy started while the last still ran.
      if (!mayAddBackup(state, volunteerId, view.policy(run, task)) || nowMs - only.leasedAtMs < slowAfterMs) continue;
      if (!best || only.leasedAtMs < best.leasedAtMs) best = { run, task, leasedAtMs: only.leasedAtMs };
    }
  }
  return best && { run: best.run, task: best.task };
}

/**
 * Tasks shorter than this on average are never asked back: a volunteer holds a batch of
 * them per slot whose tail is short anyway, and asking costs two messages. The
 * volunteer's own batches aim at about this much work (runtime/work-demand.ts, BATCH_MS).
 */
export const YIELD_MIN_TASK_MS = 50;

/**
 * Work stealing at a phase's end. A volunteer holds a task waiting beside each one it
 * runs, so that a worker never waits a round trip for its next input. Once a phase has
 * nothing left to hand out, that waiting task sits there until a slot frees while
 * another volunteer idles: on the 100 MB word count (18 maps, 2 tabs), one tab ran 10
 * maps and the other 8, and the job's last 0.6 s was one tab's alone.
 *
 * So when a claim finds nothing, the volunteer that holds the most beyond its slots, on
 * a job of long enough tasks whose phase has nothing queued, is asked to hand one back
 * (`tasks:yield`). It goes to the front of its queue, for anyone but the one that gave
 * it back. Answers that volunteer, or undefined when nobody holds such a surplus.
 */
export function pickDonor(view: DispatchView, volunteers: { get(id: string): Volunteer | undefined }, idleId: string): Volunteer | undefined {
  const holders = new Set<string>();
  for (const run of view.runs) {
    if (isTerminal(run.job.state) || run.queue.size > 0) continue;
    const phase = currentPhase(run);
    if (run.done[phase] > 0 && run.doneMs[phase] / run.done[phase] < YIELD_MIN_TASK_MS) continue;
    for (const task of view.leases.tasksOfJob(run.job.id)) {
      if (task.state.status !== 'leased') continue;
      for (const lease of task.state.leases) {
        if (lease.volunteerId !== idleId) holders.add(lease.volunteerId);
      }
    }
  }
  let best: Volunteer | undefined;
  let bestSurplus = 0;
  for (const volunteerId of holders) {
    const volunteer = volunteers.get(volunteerId);
    if (!volunteer) continue;
    // Every lease it holds counts, of any job: a slot runs one at a time whatever its job.
    const surplus = view.leases.countOfVolunteer(volunteerId) - volunteer.slots - volunteer.yieldsAsked;
    if (surplus > bestSurplus) {
      best = volunteer;
      bestSurplus = surplus;
    }
  }
  return best;
}
