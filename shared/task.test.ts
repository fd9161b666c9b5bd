import { describe, expect, it } from 'vitest';
import { taskFailure } from './errors.ts';
import {
  attemptBudget,
  defaultBackoffMs,
  initialTaskState,
  mayAddBackup,
  transitionTask,
  TaskTransitionError,
  wantsCopy,
  type Lease,
  type TaskEvent,
  type TaskPolicy,
  type TaskState,
} from './task.ts';

const policy = { maxAttempts: 2, backoffMs: (attempts: number) => attempts * 100, replication: 1, maxAnswers: 1 };
const lease = (token: string, deadlineMs = 1000, volunteerId = 'v1', backup = false): Lease => ({ token, volunteerId, leasedAtMs: 0, deadlineMs, backup });
const leased = (attemptsStarted: number, leases: Lease[] = [lease('t1')]): TaskState => ({ status: 'leased', attemptsStarted, leases });
const error = { name: 'Error', message: 'boom' };
const backupLease = lease('t2', 1000, 'v2', true);

describe('transitionTask', () => {
  it.each<[string, TaskState, TaskEvent, number, TaskState]>([
    ['leases a pending task', initialTaskState(), { type: 'lease', lease: lease('t1') }, 0, leased(1)],
    ['completes with the live token', leased(1), { type: 'complete', token: 't1', digest: 'd' }, 400, { status: 'done', attemptsStarted: 1, volunteerId: 'v1', finishedAtMs: 400, durationMs: 400, byBackup: false }],
    ['renews with a later deadline', leased(1), { type: 'renew', token: 't1', deadlineMs: 5000 }, 500, leased(1, [lease('t1', 5000)])],
    ['retries a failure with backoff', leased(1), { type: 'fail', token: 't1', error }, 500, { status: 'pending', attemptsStarted: 1, notBeforeMs: 600, lastError: error }],
    ['retries an abandoned lease', leased(1), { type: 'abandon', token: 't1', reason: 'gone' }, 500, { status: 'pending', attemptsStarted: 1, notBeforeMs: 600, lastError: { name: 'LeaseLost', message: 'gone' } }],
    ['fails for good after maxAttempts', leased(2), { type: 'fail', token: 't1', error }, 500, { status: 'failed', attemptsStarted: 2, error }],
    ['keeps the last error across a new lease', { status: 'pending', attemptsStarted: 1, notBeforeMs: 0, lastError: error }, { type: 'lease', lease: lease('t2') }, 0, { status: 'leased', attemptsStarted: 2, leases: [lease('t2')], lastError: error }],
    ['adds a backup copy on another volunteer', leased(1), { type: 'backup', lease: backupLease }, 10, leased(2, [lease('t1'), backupLease])],
    ['lets the backup win', leased(2, [lease('t1'), backupLease]), { type: 'complete', token: 't2', digest: 'd' }, 300, { status: 'done', attemptsStarted: 2, volunteerId: 'v2', finishedAtMs: 300, durationMs: 300, byBackup: true }],
    ['keeps running when one copy is lost', leased(2, [lease('t1'), backupLease]), { type: 'abandon', token: 't1', reason: 'gone' }, 300, { status: 'leased', attemptsStarted: 2, leases: [backupLease], lastError: { name: 'LeaseLost', message: 'gone' } }],
    ["requeues without backoff after a restart, the dead lease's attempt given back", leased(1), { type: 'requeue' }, 300, { status: 'pending', attemptsStarted: 0, notBeforeMs: 0 }],
    ['takes back an unstarted copy without spending an attempt', leased(1), { type: 'return', token: 't1' }, 300, { status: 'pending', attemptsStarted: 0, notBeforeMs: 300 }],
    ['keeps the other copy when one is returned', leased(2, [lease('t1'), backupLease]), { type: 'return', token: 't2' }, 300, leased(1, [lease('t1')])],
  ])('%s', (_name, from, event, nowMs, expected) => {
    expect(transitionTask(from, event, nowMs, policy)).toEqual(expected);
  });

  it.each<[string, TaskState, TaskEvent, number]>([
    ['a lease on a leased task', leased(1), { type: 'lease', lease: lease('t2') }, 0],
    ['a lease during backoff', { status: 'pending', attemptsStarted: 1, notBeforeMs: 100 }, { type: 'lease', lease: lease('t2') }, 50],
    ['a backup on the same volunteer', leased(1), { type: 'backup', lease: lease('t2', 1000, 'v1', true) }, 0],
    ['a backup of a pending task', initialTaskState(), { type: 'backup', lease: backupLease }, 0],
    ['a completion with a foreign token', leased(1), { type: 'complete', token: 'other', digest: 'd' }, 10],
    ['a completion after the deadline', leased(1), { type: 'complete', token: 't1', digest: 'd' }, 1001],
    ['a renewal after the deadline', leased(1), { type: 'renew', token: 't1', deadlineMs: 9000 }, 1001],
    ['a completion of a done task', { status: 'done', attemptsStarted: 1, volunteerId: 'v', finishedAtMs: 1, durationMs: 1, byBackup: false }, { type: 'complete', token: 't1', digest: 'd' }, 10],
    ['a failure of a pending task', initialTaskState(), { type: 'fail', token: 't1', error }, 10],
    ['anything on a failed task', { status: 'failed', attemptsStarted: 2, error }, { type: 'abandon', token: 't1', reason: 'x' }, 10],
    ['a requeue of a done task', { status: 'done', attemptsStarted: 1, volunteerId: 'v', finishedAtMs: 1, durationMs: 1, byBackup: false }, { type: 'requeue' }, 10],
  ])('refuses %s', (_name, from, event, nowMs) => {
    expect(transitionTask(from, event, nowMs, policy)).toBeInstanceOf(TaskTransitionError);
  });
});

describe('transitionTask with replication 2', () => {
  const voting = { ...policy, replication: 2, maxAnswers: 5 };
  const l1 = lease('t1', 1000, 'v1');
  const l2 = lease('t2', 1000, 'v2');
  const l3 = lease('t3', 1000, 'v3');
  const vote = (volunteerId: string, digest: string, atMs: number) => ({ volunteerId, digest, atMs });
  const step = (state: TaskState, event: TaskEvent, nowMs: number) => {
    const next = transitionTask(state, event, nowMs, voting);
    if (next instanceof TaskTransitionError) throw next;
    return next;
  };

  it('runs a second copy while the first runs, and is done when both agree', () => {
    let state = step(initialTaskState(), { type: 'lease', lease: l1 }, 0);
    state = step(state, { type: 'lease', lease: l2 }, 0);
    expect(state).toEqual({ status: 'leased', attemptsStarted: 2, leases: [l1, l2] });
    expect(transitionTask(state, { type: 'lease', lease: l3 }, 0, voting)).toBeInstanceOf(TaskTransitionError);
    state = step(state, { type: 'complete', token: 't1', digest: 'a' }, 10);
    expect(state).toEqual({ status: 'leased', attemptsStarted: 2, leases: [l2], votes: [vote('v1', 'a', 10)] });
    state = step(state, { type: 'complete', token: 't2', digest: 'a' }, 20);
    expect(state).toMatchObject({ status: 'done', volunteerId: 'v2', digest: 'a', votes: [vote('v1', 'a', 10), vote('v2', 'a', 20)] });
  });

  it('asks a third volunteer on a disagreement, and never the same one twice', () => {
    let state = step(initialTaskState(), { type: 'lease', lease: l1 }, 0);
    state = step(state, { type: 'lease', lease: l2 }, 0);
    state = step(state, { type: 'complete', token: 't1', digest: 'lie' }, 10);
    state = step(state, { type: 'complete', token: 't2', digest: 'a' }, 20);
    expect(state).toEqual({ status: 'pending', attemptsStarted: 2, notBeforeMs: 20, votes: [vote('v1', 'lie', 10), vote('v2', 'a', 20)] });
    expect(transitionTask(state, { type: 'lease', lease: lease('t4', 1000, 'v1') }, 30, voting)).toBeInstanceOf(TaskTransitionError);
    state = step(state, { type: 'lease', lease: l3 }, 30);
    state = step(state, { type: 'complete', token: 't3', digest: 'a' }, 40);
    expect(state).toMatchObject({ status: 'done', volunteerId: 'v3', digest: 'a' });
  });

  it('fails without a majority of 2 at the answers cap', () => {
    let state: TaskState = { status: 'leased', attemptsStarted: 5, leases: [l1], votes: ['a', 'b', 'c', 'd'].map((d, i) => vote(`w${i}`, d, i)) };
    state = step(state, { type: 'complete', token: 't1', digest: 'e' }, 50);
    expect(state).toMatchObject({ status: 'failed', error: { name: 'NoQuorum' } });
  });

  it('keeps the votes through a lost copy and a restart', () => {
    const votes = [vote('v1', 'a', 10)];
    const lost = step({ status: 'leased', attemptsStarted: 2, leases: [l2], votes }, { type: 'abandon', token: 't2', reason: 'gone' }, 20);
    expect(lost).toMatchObject({ status: 'pending', votes });
    expect(step({ status: 'leased', attemptsStarted: 2, leases: [l2], votes }, { type: 'requeue' }, 20)).toMatchObject({ status: 'pending', votes });
  });

  it('gives a replicated task room for its copies before it fails', () => {
    // maxAttempts 2 and 2 copies: a copy lost after one answer is retried, not fatal.
    const state = step({ status: 'leased', attemptsStarted: 2, leases: [l2], votes: [vote('v1', 'a', 1)] }, { type: 'fail', token: 't2', error }, 20);
    expect(state.status).toBe('pending');
  });
});

describe('attempts: backups and copies bounded by the budget, restarts refunded', () => {
  const voting = { ...policy, replication: 2, maxAnswers: 5 };
  const l1 = lease('t1', 1000, 'v1');
  const l2 = lease('t2', 1000, 'v2');
  const l3 = lease('t3', 1000, 'v3', true);
  const vote = (volunteerId: string, atMs: number) => ({ volunteerId, digest: 'a', atMs });
  const timeout = taskFailure('TaskTimeout', 'too long');
  const lost = { name: 'LeaseLost', message: 'gone' };

  it.each<[string, TaskState, Pick<TaskPolicy, 'maxAttempts' | 'replication'>, number]>([
    ['maxAttempts alone without a vote', leased(1), policy, 2],
    ['q - 1 more under a vote of 2 before any answer', leased(1, [l1]), voting, 3],
    ['one more per answer cast', { status: 'leased', attemptsStarted: 3, leases: [l3], votes: [vote('v1', 1), vote('v2', 2)] }, voting, 5],
  ])('the budget is %s', (_name, state, budgetPolicy, budget) => {
    expect(attemptBudget(state, budgetPolicy)).toBe(budget);
  });

  it.each<[string, TaskState, TaskEvent, TaskPolicy]>([
    ['a backup once maxAttempts are started', leased(2), { type: 'backup', lease: backupLease }, policy],
    ['a backup after a copy failed while another ran, with the attempts spent', leased(2, [backupLease]), { type: 'backup', lease: lease('t3', 1000, 'v3', true) }, policy],
    ["a vote's extra copy once its budget is spent", { status: 'leased', attemptsStarted: 3, leases: [l1] }, { type: 'lease', lease: l2 }, voting],
    ["a backup of a vote's copy once its budget is spent", { status: 'leased', attemptsStarted: 4, leases: [l2], votes: [vote('v1', 1)] }, { type: 'backup', lease: l3 }, voting],
  ])('refuses %s', (_name, from, event, eventPolicy) => {
    const next = transitionTask(from, event, 10, eventPolicy);
    expect(next).toBeInstanceOf(TaskTransitionError);
    expect((next as Error).message).toMatch(/no attempt is left/);
  });

  it.each<[string, TaskState, TaskEvent, TaskPolicy, TaskState]>([
    [
      'a copy failing while the backup runs, attempts spent, leaves the backup to answer',
      leased(2, [l1, backupLease]),
      { type: 'fail', token: 't1', error: timeout },
      policy,
      { status: 'leased', attemptsStarted: 2, leases: [backupLease], lastError: timeout },
    ],
    [
      'the last running copy failing with the attempts spent fails the task with its own error',
      { status: 'leased', attemptsStarted: 2, leases: [backupLease], lastError: timeout },
      { type: 'abandon', token: 't2', reason: 'gone' },
      policy,
      { status: 'failed', attemptsStarted: 2, error: lost },
    ],
    [
      'the last running copy answering with the attempts spent is done',
      { status: 'leased', attemptsStarted: 2, leases: [backupLease], lastError: timeout },
      { type: 'complete', token: 't2', digest: 'd' },
      policy,
      { status: 'done', attemptsStarted: 2, volunteerId: 'v2', finishedAtMs: 10, durationMs: 10, byBackup: true },
    ],
    [
      "the last copy of a vote failing with its budget spent fails the task",
      { status: 'leased', attemptsStarted: 3, leases: [l2], lastError: timeout },
      { type: 'fail', token: 't2', error: timeout },
      voting,
      { status: 'failed', attemptsStarted: 3, error: timeout },
    ],
    [
      'a restart gives back the attempts of every lease that died with it, backups included',
      { status: 'leased', attemptsStarted: 3, leases: [l1, backupLease], lastError: timeout },
      { type: 'requeue' },
      policy,
      { status: 'pending', attemptsStarted: 1, notBeforeMs: 0, lastError: timeout },
    ],
    [
      "a restart gives back a vote's running copies and keeps its answers",
      { status: 'leased', attemptsStarted: 2, leases: [l2], votes: [vote('v1', 1)] },
      { type: 'requeue' },
      voting,
      { status: 'pending', attemptsStarted: 1, notBeforeMs: 0, votes: [vote('v1', 1)] },
    ],
  ])('%s', (_name, from, event, eventPolicy, expected) => {
    expect(transitionTask(from, event, 10, eventPolicy)).toEqual(expected);
  });

  it.each<[string, TaskState, string, boolean]>([
    ['may back up a running task on another volunteer with an attempt left', leased(1), 'v2', true],
    ['may not on the volunteer that runs it', leased(1), 'v1', false],
    ['may not once the attempts are spent', leased(2), 'v2', false],
    ['may not back up a pending task', initialTaskState(), 'v2', false],
  ])('%s', (_name, state, volunteerId, allowed) => {
    expect(mayAddBackup(state, volunteerId, policy)).toBe(allowed);
  });

  it("wants no more copies for a vote once its budget is spent, so dispatch never offers one the transition refuses", () => {
    expect(wantsCopy({ status: 'leased', attemptsStarted: 2, leases: [l1] }, 10, voting)).toBe(true);
    expect(wantsCopy({ status: 'leased', attemptsStarted: 3, leases: [l1] }, 10, voting)).toBe(false);
  });

  // What the scheduler does with a task whose code never returns: back it up whenever it
  // may, and let the oldest copy time out, one after another.
  it.each([1, 2, 3, 4, 6])('a task that never returns, backed up whenever allowed, starts %i attempts and fails with the timeout', (maxAttempts) => {
    const looping = { ...policy, maxAttempts };
    const volunteers = ['v1', 'v2', 'v3'];
    let state = transitionTask(initialTaskState(), { type: 'lease', lease: lease('copy0', 1e9, 'v1') }, 0, looping) as TaskState;
    let copies = 1;
    for (let step = 1; state.status === 'leased' && step < 100; step++) {
      const idle = volunteers.find((volunteerId) => mayAddBackup(state, volunteerId, looping));
      if (idle) {
        const next = transitionTask(state, { type: 'backup', lease: lease(`copy${copies++}`, 1e9, idle, true) }, step, looping);
        if (next instanceof TaskTransitionError) throw next;
        state = next;
      }
      const oldest = (state as Extract<TaskState, { status: 'leased' }>).leases[0]!;
      const next = transitionTask(state, { type: 'fail', token: oldest.token, error: timeout }, step, looping);
      if (next instanceof TaskTransitionError) throw next;
      // A retry out of pending, as dispatch would lease it once its backoff is over.
      state = next.status === 'pending' ? (transitionTask(next, { type: 'lease', lease: lease(`copy${copies++}`, 1e9, 'v1') }, 1e6, looping) as TaskState) : next;
    }
    expect(state).toEqual({ status: 'failed', attemptsStarted: maxAttempts, error: timeout });
    expect(copies).toBe(maxAttempts);
  });
});

describe('defaultBackoffMs', () => {
  it('doubles from 250 ms and caps at 8 s', () => {
    expect([0, 1, 2, 3, 6, 7, 20].map(defaultBackoffMs)).toEqual([0, 250, 500, 1000, 8000, 8000, 8000]);
  });
});
