import { describe, expect, it } from 'vitest';
import { defaultBackoffMs, initialTaskState, transitionTask, TaskTransitionError, type Lease, type TaskEvent, type TaskState } from './task.ts';

const policy = { maxAttempts: 2, backoffMs: (attempts: number) => attempts * 100 };
const lease = (token: string, deadlineMs = 1000, volunteerId = 'v1', backup = false): Lease => ({ token, volunteerId, leasedAtMs: 0, deadlineMs, backup });
const leased = (attemptsStarted: number, leases: Lease[] = [lease('t1')]): TaskState => ({ status: 'leased', attemptsStarted, leases });
const error = { name: 'Error', message: 'boom' };
const backupLease = lease('t2', 1000, 'v2', true);

describe('transitionTask', () => {
  it.each<[string, TaskState, TaskEvent, number, TaskState]>([
    ['leases a pending task', initialTaskState(), { type: 'lease', lease: lease('t1') }, 0, leased(1)],
    ['completes with the live token', leased(1), { type: 'complete', token: 't1' }, 400, { status: 'done', attemptsStarted: 1, volunteerId: 'v1', finishedAtMs: 400, durationMs: 400, byBackup: false }],
    ['renews with a later deadline', leased(1), { type: 'renew', token: 't1', deadlineMs: 5000 }, 500, leased(1, [lease('t1', 5000)])],
    ['retries a failure with backoff', leased(1), { type: 'fail', token: 't1', error }, 500, { status: 'pending', attemptsStarted: 1, notBeforeMs: 600, lastError: error }],
    ['retries an abandoned lease', leased(1), { type: 'abandon', token: 't1', reason: 'gone' }, 500, { status: 'pending', attemptsStarted: 1, notBeforeMs: 600, lastError: { name: 'LeaseLost', message: 'gone' } }],
    ['fails for good after maxAttempts', leased(2), { type: 'fail', token: 't1', error }, 500, { status: 'failed', attemptsStarted: 2, error }],
    ['keeps the last error across a new lease', { status: 'pending', attemptsStarted: 1, notBeforeMs: 0, lastError: error }, { type: 'lease', lease: lease('t2') }, 0, { status: 'leased', attemptsStarted: 2, leases: [lease('t2')], lastError: error }],
    ['adds a backup copy on another volunteer', leased(1), { type: 'backup', lease: backupLease }, 10, leased(2, [lease('t1'), backupLease])],
    ['lets the backup win', leased(2, [lease('t1'), backupLease]), { type: 'complete', token: 't2' }, 300, { status: 'done', attemptsStarted: 2, volunteerId: 'v2', finishedAtMs: 300, durationMs: 300, byBackup: true }],
    ['keeps running when one copy is lost', leased(2, [lease('t1'), backupLease]), { type: 'abandon', token: 't1', reason: 'gone' }, 300, { status: 'leased', attemptsStarted: 2, leases: [backupLease], lastError: { name: 'LeaseLost', message: 'gone' } }],
    ['requeues without backoff after a restart', leased(1), { type: 'requeue' }, 300, { status: 'pending', attemptsStarted: 1, notBeforeMs: 0 }],
  ])('%s', (_name, from, event, nowMs, expected) => {
    expect(transitionTask(from, event, nowMs, policy)).toEqual(expected);
  });

  it.each<[string, TaskState, TaskEvent, number]>([
    ['a lease on a leased task', leased(1), { type: 'lease', lease: lease('t2') }, 0],
    ['a lease during backoff', { status: 'pending', attemptsStarted: 1, notBeforeMs: 100 }, { type: 'lease', lease: lease('t2') }, 50],
    ['a backup on the same volunteer', leased(1), { type: 'backup', lease: lease('t2', 1000, 'v1', true) }, 0],
    ['a backup of a pending task', initialTaskState(), { type: 'backup', lease: backupLease }, 0],
    ['a completion with a foreign token', leased(1), { type: 'complete', token: 'other' }, 10],
    ['a completion after the deadline', leased(1), { type: 'complete', token: 't1' }, 1001],
    ['a renewal after the deadline', leased(1), { type: 'renew', token: 't1', deadlineMs: 9000 }, 1001],
    ['a completion of a done task', { status: 'done', attemptsStarted: 1, volunteerId: 'v', finishedAtMs: 1, durationMs: 1, byBackup: false }, { type: 'complete', token: 't1' }, 10],
    ['a failure of a pending task', initialTaskState(), { type: 'fail', token: 't1', error }, 10],
    ['anything on a failed task', { status: 'failed', attemptsStarted: 2, error }, { type: 'abandon', token: 't1', reason: 'x' }, 10],
    ['a requeue of a done task', { status: 'done', attemptsStarted: 1, volunteerId: 'v', finishedAtMs: 1, durationMs: 1, byBackup: false }, { type: 'requeue' }, 10],
  ])('refuses %s', (_name, from, event, nowMs) => {
    expect(transitionTask(from, event, nowMs, policy)).toBeInstanceOf(TaskTransitionError);
  });
});

describe('defaultBackoffMs', () => {
  it('doubles from 250 ms and caps at 8 s', () => {
    expect([0, 1, 2, 3, 6, 7, 20].map(defaultBackoffMs)).toEqual([0, 250, 500, 1000, 8000, 8000, 8000]);
  });
});
