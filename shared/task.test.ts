import { describe, expect, it } from 'vitest';
import { defaultBackoffMs, initialTaskState, transitionTask, TaskTransitionError, type Lease, type TaskEvent, type TaskState } from './task.ts';

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
    ['requeues without backoff after a restart', leased(1), { type: 'requeue' }, 300, { status: 'pending', attemptsStarted: 1, notBeforeMs: 0 }],
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

describe('defaultBackoffMs', () => {
  it('doubles from 250 ms and caps at 8 s', () => {
    expect([0, 1, 2, 3, 6, 7, 20].map(defaultBackoffMs)).toEqual([0, 250, 500, 1000, 8000, 8000, 8000]);
  });
});
